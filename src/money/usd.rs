//! US dollars, exact: a `rust_decimal` value that is never a float, summed exactly and
//! rounded only when shown to people.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// US dollars, exact. Serialised as a decimal string so JSON readers never see a float.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Usd(pub Decimal);

impl Usd {
    pub const ZERO: Usd = Usd(Decimal::ZERO);

    /// Parses `12.5`, `$12.50`: exact, no floating point on the way.
    pub fn parse(text: &str) -> Option<Usd> {
        let text = text.trim();
        let text = text.strip_prefix('$').unwrap_or(text);
        Decimal::from_str_exact(text)
            .ok()
            .filter(|d| !d.is_sign_negative())
            .map(Usd)
    }

    /// `tokens` at `price_per_million` dollars per 1M tokens, exactly.
    pub fn for_tokens(tokens: u64, price_per_million: Decimal) -> Usd {
        Usd(Decimal::from(tokens) * price_per_million / Decimal::from(1_000_000u32))
    }

    /// The exact value with trailing zeros removed, at least two decimals.
    pub fn exact(self) -> String {
        let value = self.0.normalize();
        if value.scale() < 2 {
            format!("{value:.2}")
        } else {
            value.to_string()
        }
    }

    /// Rounded to the cent for people (half away from zero).
    pub fn cents(self) -> String {
        format!(
            "{:.2}",
            self.0
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        )
    }

    /// Dollars and cents for people: `$1,234.57` (exact values stay in JSON and CSV).
    pub fn dollars(self) -> String {
        let cents = self.cents();
        let (whole, fraction) = cents.split_once('.').unwrap_or((&cents, "00"));
        let (sign, digits) = whole
            .strip_prefix('-')
            .map_or(("", whole), |digits| ("-", digits));
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{sign}${grouped}.{fraction}")
    }

    /// A small amount for people, such as a price per pair: four decimals under a
    /// dollar (`$0.0063`), dollars and cents above.
    pub fn unit_price(self) -> String {
        if self.0.abs() >= Decimal::ONE {
            return self.dollars();
        }
        format!(
            "${:.4}",
            self.0
                .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        )
    }

    #[must_use]
    pub fn saturating_sub(self, other: Usd) -> Usd {
        Usd((self.0 - other.0).max(Decimal::ZERO))
    }
}

impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.exact())
    }
}

impl Add for Usd {
    type Output = Usd;
    fn add(self, other: Usd) -> Usd {
        Usd(self.0 + other.0)
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, other: Usd) {
        self.0 += other.0;
    }
}

impl Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::ZERO, Add::add)
    }
}

impl FromStr for Usd {
    type Err = String;
    fn from_str(text: &str) -> Result<Usd, String> {
        Usd::parse(text).ok_or_else(|| format!("`{text}` is not an amount of dollars"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_of_many_small_amounts_do_not_drift() {
        let price = Decimal::from_str_exact("0.000001").unwrap();
        let total: Usd = (0..100_000).map(|_| Usd::for_tokens(1, price)).sum();
        assert_eq!(total, Usd::for_tokens(100_000, price));
        assert_eq!(
            "$1.5".parse::<Usd>(),
            Ok(Usd(Decimal::from_str_exact("1.5").unwrap()))
        );
        assert!("1e3".parse::<Usd>().is_err());
    }

    #[test]
    fn people_read_dollars_and_cents() {
        let usd = |s: &str| Usd(Decimal::from_str_exact(s).unwrap());
        assert_eq!(usd("1.23662625").dollars(), "$1.24");
        assert_eq!(usd("1234567.005").dollars(), "$1,234,567.01");
        assert_eq!(usd("0").dollars(), "$0.00");
        assert_eq!(usd("0.00630012").unit_price(), "$0.0063");
        assert_eq!(usd("12.5").unit_price(), "$12.50");
    }
}
