//! Differential run of changed lines against the git CLI over many generated histories:
//! `cargo run --release --example git_differential -- [CASES] [FIRST_SEED]` (default 1000
//! cases from seed 1). Prints the number that agree and stops at the first disagreement.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};

mod git_cases;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let first: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let tmp = tempfile::tempdir().expect("temp dir");
    let started = std::time::Instant::now();
    let mut agreed = 0u64;
    let mut renames = 0usize;
    for chunk_start in (first..first + n).step_by(100) {
        let seeds: Vec<u64> = (chunk_start..(chunk_start + 100).min(first + n)).collect();
        let cases: Vec<_> = seeds
            .iter()
            .map(|&s| (s, git_cases::generate(tmp.path(), s)))
            .collect();
        let list: Vec<String> = cases
            .iter()
            .map(|(_, (r, _))| r.display().to_string())
            .collect();
        let mut child = Command::new("python3")
            .args(["-c", git_cases::ORACLE_PY])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(serde_json::to_string(&list).unwrap().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let expected: BTreeMap<String, BTreeMap<String, Vec<u32>>> =
            serde_json::from_slice(&out.stdout).expect("oracle output");
        for (seed, (repo, ops)) in &cases {
            let got: BTreeMap<String, Vec<u32>> =
                controlgate::git::changes(repo, "main", false, 50)
                    .expect("controlgate reads the history")
                    .files
                    .into_iter()
                    .filter(|f| !f.added_lines.is_empty())
                    .map(|f| (f.path, f.added_lines))
                    .collect();
            let want = &expected[&repo.display().to_string()];
            if &got != want {
                eprintln!("case {seed} disagrees ({ops:?}):\n ours: {got:?}\n git:  {want:?}");
                std::process::exit(1);
            }
            agreed += 1;
            renames += ops.iter().filter(|o| o.starts_with("rename")).count();
        }
        let _ = std::fs::remove_dir_all(tmp.path());
        let _ = std::fs::create_dir_all(tmp.path());
    }
    println!(
        "{agreed} of {n} generated histories agree with `git diff -M -U0` ({renames} renames), {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
