//! GATHER: test result files (JUnit, TRX, NUnit, xUnit.net, go test -json, Dart, Mocha; see
//! `ingest::results`) found, read, hashed and parsed on a second thread, their cases streamed
//! into the caller's sinks (the core's aggregator and API analyzer). A regular file is parsed
//! in place (`files::read_hashed_in_place`: a large one mapped, hashed behind the parser and its
//! pages let go behind it), anything else as a stream.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender};

use crate::error::Error;
use crate::ingest::batch::{CaseBatch, CaseSink, RawStrings};
use crate::ingest::results;
use crate::inputs;

/// Test cases travel from the parser thread to the aggregating one in batches of this size...
const BATCH: usize = 1024;
/// ...or of this many bytes of raw strings, whichever comes first.
const BATCH_BYTES: usize = 1 << 20;

/// Parses the files on a second thread (reading, hashing and XML) while the caller's thread
/// decodes the JUnit testcases' strings, maps and aggregates (`ingest::batch` says why the
/// strings are decoded here): the halves cost about the same, so this nearly halves wall time.
/// What reading the result files gave besides their cases.
pub struct ReadResults {
    pub files: Vec<crate::model::InputFile>,
    /// The files with properties not read for a limit: (file, tests' properties past
    /// `junit::MAX_CASE_PROPERTIES` per test, suites' properties past the suite limits).
    pub properties_dropped: Vec<(String, u64, u64)>,
}

pub fn parse_result_files(
    paths: &[PathBuf],
    displays: &[String],
    on_case: &mut dyn FnMut(&mut crate::model::TestCase),
) -> Result<ReadResults, Error> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<CaseBatch>(16);
    // Emptied batches go back to the reader to be filled again.
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<CaseBatch>(4);
    std::thread::scope(|scope| {
        // Named so a profile tells the two halves apart.
        let producer = std::thread::Builder::new()
            .name("results-reader".into())
            .spawn_scoped(scope, move || {
                let mut files = Vec::with_capacity(paths.len());
                let mut properties_dropped = Vec::new();
                for (index, (path, display)) in paths.iter().zip(displays).enumerate() {
                    let mut sink = Batches {
                        batch: CaseBatch::with_capacity(BATCH),
                        tx: &tx,
                        back: &back_rx,
                    };
                    let (summary, file) = inputs::read_hashed_in_place(path, display, |input| {
                        match input {
                            inputs::Input::Bytes { bytes, done_before } => {
                                results::parse_bytes_into(bytes, index, &mut sink, done_before)
                            }
                            inputs::Input::Stream(reader) => {
                                results::parse_into(reader, index, &mut sink)
                            }
                        }
                        .map(|(_, summary)| summary)
                        .map_err(|e| controlgate_forge::Error::from(e.in_file(display)))
                    })?;
                    let _ = tx.send(sink.batch);
                    files.push(file);
                    let (case, suite) = (
                        summary.case_properties_dropped,
                        summary.suite_properties_dropped,
                    );
                    if case + suite > 0 {
                        properties_dropped.push((display.clone(), case, suite));
                    }
                }
                Ok(ReadResults {
                    files,
                    properties_dropped,
                })
            });
        let producer =
            producer.map_err(|e| Error::Usage(format!("cannot start the results reader: {e}")))?;
        for mut batch in rx {
            // Lent, not moved: a case is a few hundred bytes and most are only looked at.
            batch.lend_each(&mut *on_case);
            // The reader may be done and gone: the batch is then dropped here.
            let _ = back_tx.try_send(batch);
        }
        producer
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("test results reader thread failed".into())))
    })
}

/// The reading thread's sink: cases into the current batch, full batches to the channel.
struct Batches<'a> {
    batch: CaseBatch,
    tx: &'a SyncSender<CaseBatch>,
    /// Batches the other thread has emptied.
    back: &'a Receiver<CaseBatch>,
}

impl Batches<'_> {
    fn send_when_full(&mut self) {
        if self.batch.len() == BATCH || self.batch.bytes() >= BATCH_BYTES {
            let next = self
                .back
                .try_recv()
                .unwrap_or_else(|_| CaseBatch::with_capacity(BATCH));
            let full = std::mem::replace(&mut self.batch, next);
            // The receiver lives until this thread is joined.
            let _ = self.tx.send(full);
        }
    }
}

impl CaseSink for Batches<'_> {
    fn case(&mut self, case: crate::model::TestCase) {
        self.batch.case(case);
        self.send_when_full();
    }

    fn raw_case(&mut self, case: crate::model::TestCase, raw: &RawStrings<'_>) {
        self.batch.raw_case(case, raw);
        self.send_when_full();
    }
}

/// Expands a suite's result globs; matching nothing is not an error here (the suite gate says
/// so instead).
pub fn expand_lenient(patterns: &[String], base: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in patterns {
        if let Ok(found) = inputs::expand(std::slice::from_ref(p), base, "results") {
            for f in found {
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TestCase;

    /// The pipeline (a reading thread, batches of raw strings decoded on this thread) gives
    /// every case the core's reader gives, in order: across many batches and two files (one
    /// mapped, one read whole), suites changing inside a batch, names with references,
    /// non-ASCII and bytes that are not UTF-8 on their own.
    #[test]
    fn the_pipeline_reads_what_the_reader_reads_across_batches() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        let mut expected: Vec<TestCase> = Vec::new();
        for (index, cases) in [(0usize, 15_000usize), (1, 300)].into_iter() {
            let mut doc = b"<testsuites>".to_vec();
            for i in 0..cases {
                if i % 700 == 0 {
                    if i > 0 {
                        doc.extend_from_slice(b"</testsuite>");
                    }
                    let suite = format!("<testsuite name=\"s{i} &amp; co\" filepath=\"f{i}.py\">");
                    doc.extend_from_slice(suite.as_bytes());
                }
                let case = match i % 4 {
                    0 => format!("<testcase classname=\"c.C{i}\" name=\"t{i}\" time=\"0.{i}\"/>"),
                    1 => format!(
                        "<testcase classname=\"c&#46;D\" name=\"t{i} &lt;x&gt; \u{e9}\" file=\"d{i}.py\"/>"
                    ),
                    2 => format!(
                        "<testcase class=\"K{i}\" name=\"t{i}\"><failure message=\"m{i}\">at x.py:{i}</failure></testcase>"
                    ),
                    _ => format!("<testcase classname=\"plain{i}\" name=\"t{i}\"/>"),
                };
                doc.extend_from_slice(case.as_bytes());
                if i % 4 == 3 {
                    // A class name ending in half a character, the name starting with its rest.
                    let raw = format!("<testcase classname=\"e{i}").into_bytes();
                    doc.extend_from_slice(&raw);
                    doc.extend_from_slice(b"\xC3\" name=\"\xA9\"/>");
                }
            }
            doc.extend_from_slice(b"</testsuite></testsuites>");
            let path = dir.path().join(format!("r{index}.xml"));
            std::fs::write(&path, &doc).unwrap();
            results::parse(doc.as_slice(), index, &mut |c| expected.push(c)).unwrap();
            paths.push(path);
        }
        let displays = vec!["r0.xml".to_owned(), "r1.xml".to_owned()];
        let mut got = Vec::new();
        let read = parse_result_files(&paths, &displays, &mut |c| got.push(c.clone())).unwrap();
        assert_eq!(read.files.len(), 2);
        assert!(expected.len() > 15 * BATCH, "{} cases", expected.len());
        assert_eq!(got.len(), expected.len());
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "case {i}");
        }
    }
}
