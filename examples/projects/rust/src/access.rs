//! Role-based permissions for payment operations.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Refund,
    RotateKeys,
}

pub fn can(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Viewer => matches!(action, Read),
        Role::Operator => matches!(action, Read | Create),
        Role::Admin => true,
    }
}

#[cfg(test)]
mod cc6_3 {
    use super::*;

    #[test]
    fn viewer_cannot_refund() {
        assert!(!can(Role::Viewer, Action::Refund));
    }

    #[test]
    fn only_admin_rotates_keys() {
        let allowed: Vec<Role> = [Role::Viewer, Role::Operator, Role::Admin]
            .into_iter()
            .filter(|r| can(*r, Action::RotateKeys))
            .collect();
        assert_eq!(allowed, vec![Role::Admin]);
    }
}
