//! The `s3` evidence store against a real S3 API (moto server from the test virtualenv),
//! bucket with Object Lock and a default COMPLIANCE retention.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use controlgate::retain::s3_store::{S3Options, S3Store};
use controlgate::retain::store::Created;
use controlgate::retain::{
    EvidenceStore, VerifyOptions, WriteOptions, verify_store, write_evidence_with,
};

use crate::evidence::sample_input;

fn venv() -> PathBuf {
    match std::env::var_os("CONTROLGATE_TEST_VENV") {
        Some(v) => PathBuf::from(v),
        None => panic!(
            "CONTROLGATE_TEST_VENV is not set: run ./scripts/test (it installs moto into .venv)"
        ),
    }
}

/// A store on the moto server at `port` (its test credentials, moto's quirks).
fn moto_store(port: u16, bucket: &str, prefix: &str) -> S3Store {
    S3Store::open(&S3Options {
        bucket: bucket.into(),
        prefix: prefix.into(),
        region: Some("us-east-1".into()),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        allow_http: true,
        credentials: Some(("testing".into(), "testing".into())),
        extra_headers: moto_compat(),
        aws_env: Vec::new(),
    })
    .unwrap()
}

/// moto wants `x-amz-sdk-checksum-algorithm` besides the checksum itself (real S3 does not).
fn moto_compat() -> Vec<(String, String)> {
    vec![("x-amz-sdk-checksum-algorithm".into(), "SHA256".into())]
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto(venv: &std::path::Path, recording: &std::path::Path) -> (Moto, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(venv.join("bin/moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("MOTO_ENABLE_RECORDING", "True")
        .env("MOTO_RECORDER_FILEPATH", recording)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server from the test venv");
    let moto = Moto(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, port)
}

/// Runs a boto3 script against the server; `ENDPOINT` and the client `s3` are predefined.
fn boto(venv: &std::path::Path, port: u16, script: &str) -> serde_json::Value {
    let prelude = format!(
        "import boto3, json, base64, sys\n\
         s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:{port}', region_name='us-east-1',\n\
         aws_access_key_id='testing', aws_secret_access_key='testing')\n"
    );
    let out = Command::new(venv.join("bin/python"))
        .args(["-c", &format!("{prelude}{script}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn s3_object_lock_bucket_create_only_with_checksums() {
    let venv = venv();
    let tmp = tempfile::tempdir().unwrap();
    let recording = tmp.path().join("requests.jsonl");
    let (_moto, port) = start_moto(&venv, &recording);
    boto(
        &venv,
        port,
        "s3.create_bucket(Bucket='evidence', ObjectLockEnabledForBucket=True)\n\
         s3.put_object_lock_configuration(Bucket='evidence', ObjectLockConfiguration={'ObjectLockEnabled': 'Enabled',\n\
           'Rule': {'DefaultRetention': {'Mode': 'COMPLIANCE', 'Days': 1}}})\n\
         print(json.dumps(s3.get_object_lock_configuration(Bucket='evidence')['ObjectLockConfiguration']))\n",
    );
    let store = moto_store(port, "evidence", "acme/app");

    let opts = WriteOptions {
        fallback_dir: tmp.path().join("fallback"),
        now: None,
    };
    let written: Vec<_> = (1..=3)
        .map(|i| write_evidence_with(&store, &sample_input("acme/app", i), &opts).unwrap())
        .collect();
    assert_eq!(
        written.iter().map(|w| w.entry_seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        written[0].location,
        format!(
            "s3://evidence/acme/app/bundles/{}/",
            written[0].bundle_digest
        )
    );
    let out = verify_store(&store, &VerifyOptions::default()).unwrap();
    assert!(out.intact, "{:?}", out.problem);
    assert_eq!((out.entries, out.bundles_checked), (3, 3));

    // Create-only: a second write of an existing key is refused and changes nothing.
    let key = "ledger/0000000001.json";
    let before = store.get(key).unwrap().unwrap();
    assert_eq!(
        store.put_create(key, b"forged").unwrap(),
        Created::AlreadyExists
    );
    assert_eq!(store.get(key).unwrap().unwrap(), before);

    // Another repository in the same bucket lists only its own prefix.
    let other = moto_store(port, "evidence", "acme/other");
    assert!(other.list("ledger/").unwrap().is_empty());

    // The PUT carried the SHA-256 checksum header and was conditional (create-only).
    let sha = controlgate::retain::canonical::sha256_hex(&before);
    let recorded = std::fs::read_to_string(&recording).unwrap();
    let put = recorded
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| {
            r["method"] == "PUT"
                && r["url"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/evidence/acme/app/ledger/0000000001.json")
        })
        .expect("the PUT of entry 1 was recorded");
    let header = |name: &str| {
        put["headers"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str().unwrap().to_string())
    };
    let b64 = boto(
        &venv,
        port,
        &format!("print(json.dumps(base64.b64encode(bytes.fromhex('{sha}')).decode()))"),
    );
    assert_eq!(
        header("x-amz-checksum-sha256").as_deref(),
        b64.as_str(),
        "{put}"
    );
    assert_eq!(header("if-none-match").as_deref(), Some("*"), "{put}");

    // The stored checksum; the lock refuses deleting the version.
    let r = boto(
        &venv,
        port,
        "k = 'acme/app/ledger/0000000001.json'\n\
         h = s3.head_object(Bucket='evidence', Key=k, ChecksumMode='ENABLED')\n\
         v = s3.list_object_versions(Bucket='evidence', Prefix=k)['Versions'][0]['VersionId']\n\
         try:\n    s3.delete_object(Bucket='evidence', Key=k, VersionId=v); deleted = 'yes'\n\
         except Exception as e:\n    deleted = str(e)\n\
         print(json.dumps({'checksum': base64.b64decode(h.get('ChecksumSHA256', '')).hex(),\n\
           'mode': h.get('ObjectLockMode'), 'deleted': deleted}))\n",
    );
    assert_eq!(r["checksum"], sha.as_str(), "{r}");
    assert_eq!(r["mode"], "COMPLIANCE", "{r}");
    let deleted = r["deleted"].as_str().unwrap();
    assert!(
        deleted.contains("AccessDenied"),
        "deleting a locked version was not refused: {deleted}"
    );
    assert!(
        verify_store(&store, &VerifyOptions::default())
            .unwrap()
            .intact
    );

    // The lock keeps old versions but not a new one on top: verify, hashing the body as it
    // streams in, names the file that was overwritten.
    let digest = &written[1].bundle_digest;
    boto(
        &venv,
        port,
        &format!(
            "s3.put_object(Bucket='evidence', Key='acme/app/bundles/{digest}/inputs/abs/coverage/lcov.info', Body=b'DA:1,1\\n')\n\
             print('{{}}')\n"
        ),
    );
    let out = verify_store(&store, &VerifyOptions::default()).unwrap();
    assert!(!out.intact);
    let problem = format!("{:?}", out.problem);
    assert!(
        problem.contains("entry 2") && problem.contains("inputs/abs/coverage/lcov.info was edited"),
        "{problem}"
    );
}

/// A store that cannot be reached, or has no bucket, is unusable input (exit 2) for
/// `verify` — never "tampered" (exit 1), which would send an auditor after a forgery that
/// is a network problem, and never "no base" for a PR run.
#[test]
fn an_unreachable_store_or_a_missing_bucket_is_unusable_input() {
    let venv = venv();
    let tmp = tempfile::tempdir().unwrap();
    let (_moto, port) = start_moto(&venv, &tmp.path().join("requests.jsonl"));
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    for (what, endpoint_port, bucket) in [
        ("unreachable", dead_port, "evidence"),
        ("no bucket", port, "no-such-bucket"),
    ] {
        let store = moto_store(endpoint_port, bucket, "acme/app");
        let err = verify_store(&store, &VerifyOptions::default()).unwrap_err();
        assert_eq!(
            controlgate::error::exit_code_of(&err),
            controlgate::ExitCode::BadInput,
            "{what}: {err}"
        );
        // Through the binary, configured as a user would.
        std::fs::write(
            tmp.path().join("c.yml"),
            format!(
                "evidence:\n  store: {{type: s3, bucket: {bucket}, region: us-east-1, \
                 endpoint: 'http://127.0.0.1:{endpoint_port}', allow_http: true}}\n"
            ),
        )
        .unwrap();
        for args in [
            &["verify"][..],
            &["audit", "--from", "2026-01-01", "--to", "2026-12-31"],
        ] {
            let o = Command::new(env!("CARGO_BIN_EXE_controlgate"))
                .current_dir(tmp.path())
                .args(args)
                .args(["--config", "c.yml"])
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{what} {args:?}: {err}");
            assert!(
                !String::from_utf8_lossy(&o.stdout).contains("TAMPERED"),
                "{what}: {err}"
            );
            assert!(!err.contains("testing"), "a credential was printed: {err}");
        }
    }
}

/// `verify` and `audit` with an S3 store configured read where runs wrote: without `prefix`,
/// under the repository the Action wrote as (`GITHUB_REPOSITORY`), else `local` (what
/// `controlgate report` writes under outside the Action). Before, they read the bucket's
/// root: "no evidence ledger", exit 2.
#[test]
fn configured_s3_readers_default_to_the_repository_runs_write_under() {
    let venv = venv();
    let tmp = tempfile::tempdir().unwrap();
    let (_moto, port) = start_moto(&venv, &tmp.path().join("requests.jsonl"));
    boto(
        &venv,
        port,
        "s3.create_bucket(Bucket='evidence')\nprint('{}')\n",
    );
    let opts = WriteOptions {
        fallback_dir: tmp.path().join("fallback"),
        now: None,
    };
    for (prefix, runs) in [("acme/app", 2), ("local", 1)] {
        let store = moto_store(port, "evidence", prefix);
        for i in 1..=runs {
            write_evidence_with(&store, &sample_input(prefix, i), &opts).unwrap();
        }
    }
    std::fs::write(
        tmp.path().join("c.yml"),
        format!(
            "evidence:\n  store: {{type: s3, bucket: evidence, region: us-east-1, \
             endpoint: 'http://127.0.0.1:{port}', allow_http: true}}\n"
        ),
    )
    .unwrap();
    for (repository, entries) in [(Some("acme/app"), 2), (None, 1)] {
        for args in [
            &["verify"][..],
            &["audit", "--from", "2000-01-01", "--to", "2999-12-31"],
        ] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_controlgate"));
            cmd.current_dir(tmp.path())
                .args(args)
                .args(["--config", "c.yml"])
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env_remove("GITHUB_REPOSITORY");
            if let Some(r) = repository {
                cmd.env("GITHUB_REPOSITORY", r);
            }
            let o = cmd.output().unwrap();
            let out = String::from_utf8_lossy(&o.stdout);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{repository:?} {args:?}: {out}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            if args[0] == "verify" {
                let prefix = repository.unwrap_or("local");
                assert!(
                    out.starts_with(&format!("evidence intact: {entries} entries"))
                        && out.contains(&format!("s3://evidence/{prefix}/")),
                    "{out}"
                );
            }
        }
    }
}
