//! GATHER: test result files (JUnit, TRX, NUnit, xUnit.net, go test -json, Dart, Mocha; see
//! `ingest::results`) found, read, hashed and parsed on a second thread, their cases streamed
//! into the caller's sinks (the core's aggregator and API analyzer).

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::ingest::results;
use crate::inputs;

/// Test cases travel from the parser thread to the aggregating one in batches of this size.
const BATCH: usize = 1024;

/// Parses the files on a second thread (reading, hashing and XML) while the caller's thread
/// maps and aggregates: the two halves cost about the same, so this nearly halves wall time.
pub fn parse_result_files(
    paths: &[PathBuf],
    displays: &[String],
    on_case: &mut dyn FnMut(&mut crate::model::TestCase),
) -> Result<Vec<crate::model::InputFile>, Error> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<crate::model::TestCase>>(16);
    std::thread::scope(|scope| {
        // Named so a profile tells the two halves apart.
        let producer = std::thread::Builder::new()
            .name("results-reader".into())
            .spawn_scoped(scope, move || {
                let mut files = Vec::with_capacity(paths.len());
                for (index, (path, display)) in paths.iter().zip(displays).enumerate() {
                    let mut batch = Vec::with_capacity(BATCH);
                    let (_, file) = inputs::read_hashed(path, display, |reader| {
                        results::parse(reader, index, &mut |case| {
                            batch.push(case);
                            if batch.len() == BATCH {
                                // The receiver lives until this thread is joined.
                                let _ = tx
                                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                            }
                        })
                        .map(|_| ())
                        .map_err(|e| controlgate_forge::Error::from(e.in_file(display)))
                    })?;
                    let _ = tx.send(batch);
                    files.push(file);
                }
                Ok(files)
            });
        let producer =
            producer.map_err(|e| Error::Usage(format!("cannot start the results reader: {e}")))?;
        for mut batch in rx {
            // Lent, not moved: a case is a few hundred bytes and most are only looked at.
            batch.iter_mut().for_each(&mut *on_case);
        }
        producer
            .join()
            .unwrap_or_else(|_| Err(Error::Usage("test results reader thread failed".into())))
    })
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
