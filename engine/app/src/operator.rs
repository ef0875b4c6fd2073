//! Who acts: an operator id, validated once.
//!
//! Today an operator is the id given with `--operator`; the web interface will make it an
//! account. Either way the audit log records this value with every action, so it is
//! checked here once: not empty, no control characters, at most 64 characters.

use std::fmt;

use crate::error::AppError;

/// A validated operator id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Operator(String);

impl Operator {
    pub fn new(id: &str) -> Result<Self, AppError> {
        let id = id.trim();
        if id.is_empty() {
            return Err(AppError::Case(vigie_case::CaseError::NoOperator));
        }
        if id.chars().count() > 64 || id.chars().any(char::is_control) {
            return Err(AppError::BadOperator(id.to_owned()));
        }
        Ok(Self(id.to_owned()))
    }

    /// From an optional flag: `None` or empty is the "no operator given" refusal.
    pub fn from_flag(id: Option<&str>) -> Result<Self, AppError> {
        Self::new(id.unwrap_or_default())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_checked() {
        assert_eq!(Operator::new(" op1 ").unwrap().as_str(), "op1");
        assert!(Operator::new("").is_err());
        assert!(Operator::from_flag(None).is_err());
        assert!(Operator::new("a\nb").is_err());
        assert!(Operator::new(&"x".repeat(65)).is_err());
    }
}
