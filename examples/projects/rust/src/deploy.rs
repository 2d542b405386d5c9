//! Pre-deploy checks on the migration plan.

/// Pending migration ids in order; refuses a pending id older than an applied one.
pub fn pending<'a>(available: &[&'a str], applied: &[&str]) -> Result<Vec<&'a str>, String> {
    let mut ids = available.to_vec();
    ids.sort_unstable();
    let pending: Vec<&str> = ids.into_iter().filter(|m| !applied.contains(m)).collect();
    if let (Some(first), Some(last)) = (pending.first(), applied.iter().max()) {
        if first < last {
            return Err(format!("out-of-order migration {first} (already applied {last})"));
        }
    }
    Ok(pending)
}

#[cfg(test)]
mod cc8_1 {
    use super::*;

    #[test]
    fn out_of_order_migration_blocks_deploy() {
        let err = pending(&["0001_init", "0002_refunds", "0003_keys"], &["0001_init", "0003_keys"]);
        assert!(err.unwrap_err().contains("0002_refunds"));
    }
}
