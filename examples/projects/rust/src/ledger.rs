//! Double-entry postings in integer minor units.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: &'static str,
    pub amount: i64,
}

/// A transfer as balanced postings, or an error for a non-positive amount.
pub fn transfer(from: &'static str, to: &'static str, amount: i64) -> Result<[Posting; 2], String> {
    if amount <= 0 {
        return Err(format!("transfer amount must be positive, got {amount}"));
    }
    Ok([
        Posting { account: from, amount: -amount },
        Posting { account: to, amount },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_balance_to_zero() {
        let p = transfer("acct:merchant-42", "acct:payouts", 12_50).unwrap();
        assert_eq!(p.iter().map(|p| p.amount).sum::<i64>(), 0);
    }

    #[test]
    fn rejects_non_positive_amounts() {
        assert!(transfer("a", "b", 0).is_err());
        assert!(transfer("a", "b", -1).is_err());
    }
}
