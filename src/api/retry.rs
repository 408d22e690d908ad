//! The one retry loop every API call goes through: exponential backoff with jitter, the
//! server's `retry-after-ms` / `Retry-After` honoured, and a stricter rule for creates.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::ApiError;

/// Set to `1` to make every retry immediate (tests).
pub const NO_RETRY_DELAY_ENV: &str = "SAFESFT_NO_RETRY_DELAY";

/// How hard to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RetrySettings {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// The longest wait a server's `Retry-After` can ask for (longer ones are cut).
    pub max_retry_after: Duration,
    /// No waiting at all between attempts (tests).
    pub no_delay: bool,
}

impl RetrySettings {
    /// 8 attempts, 500 ms to 60 s apart, `Retry-After` up to 600 s; `no_delay` from
    /// [`NO_RETRY_DELAY_ENV`].
    pub(crate) fn new(no_delay: bool) -> RetrySettings {
        RetrySettings {
            max_attempts: 8,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(600),
            no_delay,
        }
    }

    /// The wait before retry number `retry` (1 after the first attempt failed): the
    /// server's hint when it gave one (capped), else `min_delay · 2^(retry-1)` capped at
    /// `max_delay` and jittered by ×[0.5, 1.5) with `random` in [0, 1).
    pub(crate) fn delay(&self, retry: u32, hint: Option<Duration>, random: f64) -> Duration {
        if self.no_delay {
            return Duration::ZERO;
        }
        if let Some(hint) = hint {
            return hint.min(self.max_retry_after);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let base = self.min_delay.saturating_mul(factor).min(self.max_delay);
        base.mul_f64(0.5 + random.clamp(0.0, 1.0))
            .clamp(self.min_delay, self.max_delay.max(self.min_delay))
    }
}

/// Which failures a call may be sent again after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryRule {
    /// Reads and idempotent writes: 429, 5xx, and any network failure.
    Transient,
    /// Creating a batch: only failures that prove nothing happened (429, a connection
    /// that was never made). Anything else goes back to the caller, which looks the
    /// batch up by its metadata before trying again.
    ProvablyNotApplied,
}

impl RetryRule {
    pub(crate) fn allows(self, error: &ApiError) -> bool {
        match self {
            RetryRule::Transient => error.transient(),
            RetryRule::ProvablyNotApplied => matches!(
                error,
                ApiError::Status { status: 429, .. }
                    | ApiError::Transport {
                        ambiguous: false,
                        ..
                    }
            ),
        }
    }
}

/// One failed attempt: the error, and how long the server asked us to wait.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: ApiError,
    pub retry_after: Option<Duration>,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Failure {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// Runs `attempt` until it succeeds, `rule` refuses its error, or the attempts run out;
/// waits between attempts as [`RetrySettings::delay`] says.
pub(crate) async fn with_retry<T>(
    settings: &RetrySettings,
    rule: RetryRule,
    mut attempt: impl AsyncFnMut() -> Result<T, Failure>,
) -> Result<T, ApiError> {
    let mut number = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(failure) if number < settings.max_attempts && rule.allows(&failure.error) => {
                let delay = settings.delay(number, failure.retry_after, fastrand::f64());
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                number += 1;
            }
            Err(failure) => return Err(failure.error),
        }
    }
}

/// The wait a response asks for: `retry-after-ms` (milliseconds, as OpenAI sends it),
/// else `Retry-After` in seconds or as an HTTP date (counted from `now`).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |text: &str| text.parse::<f64>().ok().filter(|n| *n >= 0.0);
    let seconds = |seconds: f64| Duration::try_from_secs_f64(seconds).ok();
    if let Some(delay) = header("retry-after-ms")
        .and_then(number)
        .and_then(|ms| seconds(ms / 1000.0))
    {
        return Some(delay);
    }
    let value = header(RETRY_AFTER.as_str())?;
    if let Some(delay) = number(value).and_then(seconds) {
        return Some(delay);
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now = chrono::DateTime::<chrono::Utc>::from(now);
    Some(
        (date.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn backoff_grows_from_half_a_second_to_a_minute_with_jitter() {
        let settings = RetrySettings::new(false);
        let ms = |retry, random| settings.delay(retry, None, random).as_millis();
        assert_eq!(ms(1, 0.5), 500);
        assert_eq!(ms(1, 0.0), 500, "never under the minimum");
        assert_eq!(ms(2, 0.5), 1000);
        assert_eq!(ms(2, 0.0), 500);
        assert_eq!(ms(2, 0.999), 1499);
        assert_eq!(ms(3, 0.5), 2000);
        assert_eq!(ms(7, 0.5), 32_000, "the last of 8 attempts");
        assert_eq!(ms(7, 0.99), 47_680);
        assert_eq!(ms(8, 0.99), 60_000, "never over the maximum");
        assert_eq!(ms(40, 0.5), 60_000, "no overflow");
    }

    #[test]
    fn the_servers_wait_is_honoured_up_to_ten_minutes() {
        let settings = RetrySettings::new(false);
        let wait = |hint| settings.delay(3, Some(hint), 0.5);
        assert_eq!(wait(Duration::from_secs(7)), Duration::from_secs(7));
        assert_eq!(wait(Duration::ZERO), Duration::ZERO);
        assert_eq!(wait(Duration::from_secs(3600)), Duration::from_secs(600));
    }

    #[test]
    fn no_delay_makes_every_retry_immediate() {
        let settings = RetrySettings::new(true);
        assert_eq!(settings.delay(5, None, 0.7), Duration::ZERO);
        assert_eq!(
            settings.delay(1, Some(Duration::from_secs(30)), 0.7),
            Duration::ZERO
        );
    }

    #[test]
    fn retry_after_reads_milliseconds_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let read = |pairs: &[(&'static str, &str)]| retry_after(&headers(pairs), now);
        assert_eq!(read(&[]), None);
        assert_eq!(read(&[("retry-after", "3")]), Some(Duration::from_secs(3)));
        assert_eq!(
            read(&[("retry-after", " 1.5 ")]),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            read(&[("retry-after-ms", "250")]),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            read(&[("retry-after-ms", "20"), ("retry-after", "3")]),
            Some(Duration::from_millis(20)),
            "milliseconds win, as in OpenAI's clients"
        );
        assert_eq!(
            read(&[("retry-after-ms", "soon"), ("retry-after", "3")]),
            Some(Duration::from_secs(3))
        );
        // 2015-10-21 07:28:00 UTC is 1_445_412_480 + 0; a date 2 minutes on.
        assert_eq!(
            read(&[("retry-after", "Wed, 21 Oct 2015 07:30:00 GMT")]),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            read(&[("retry-after", "Wed, 21 Oct 2015 07:00:00 GMT")]),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(read(&[("retry-after", "-4")]), None);
        assert_eq!(read(&[("retry-after", "whenever")]), None);
        assert_eq!(read(&[("retry-after", "1e400")]), None, "no overflow");
    }

    fn status(code: u16) -> ApiError {
        ApiError::Status {
            call: "x".into(),
            status: code,
            message: String::new(),
            code: None,
        }
    }

    fn transport(ambiguous: bool) -> ApiError {
        ApiError::Transport {
            call: "x".into(),
            message: String::new(),
            ambiguous,
        }
    }

    #[test]
    fn creates_are_retried_only_when_nothing_can_have_happened() {
        let create = RetryRule::ProvablyNotApplied;
        assert!(create.allows(&status(429)));
        assert!(create.allows(&transport(false)), "a refused connection");
        assert!(!create.allows(&transport(true)), "a dropped answer");
        assert!(!create.allows(&status(500)));
        assert!(!create.allows(&status(400)));
        let read = RetryRule::Transient;
        assert!(read.allows(&status(429)) && read.allows(&status(503)));
        assert!(read.allows(&transport(true)) && read.allows(&transport(false)));
        assert!(!read.allows(&status(404)));
        let decode = ApiError::Decode {
            call: "x".into(),
            message: String::new(),
        };
        assert!(!read.allows(&decode) && !create.allows(&decode));
    }

    #[tokio::test]
    async fn the_loop_stops_at_success_a_final_error_or_the_last_attempt() {
        let settings = RetrySettings::new(true);
        let mut calls = 0;
        let result = with_retry(&settings, RetryRule::Transient, async || {
            calls += 1;
            if calls < 3 {
                Err(Failure::from(status(503)))
            } else {
                Ok(calls)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);

        let mut calls = 0;
        let result: Result<(), _> = with_retry(&settings, RetryRule::Transient, async || {
            calls += 1;
            Err(Failure::from(status(503)))
        })
        .await;
        assert!(matches!(result, Err(ApiError::Status { status: 503, .. })));
        assert_eq!(calls, 8);

        let mut calls = 0;
        let result: Result<(), _> =
            with_retry(&settings, RetryRule::ProvablyNotApplied, async || {
                calls += 1;
                Err(Failure::from(status(500)))
            })
            .await;
        assert!(result.unwrap_err().maybe_applied());
        assert_eq!(calls, 1, "an ambiguous create goes back to the caller");
    }

    #[tokio::test(start_paused = true)]
    async fn waits_really_happen_between_attempts() {
        let settings = RetrySettings::new(false);
        let started = tokio::time::Instant::now();
        let mut calls = 0;
        let result = with_retry(&settings, RetryRule::Transient, async || {
            calls += 1;
            if calls == 1 {
                Err(Failure {
                    error: status(429),
                    retry_after: Some(Duration::from_secs(42)),
                })
            } else {
                Ok(())
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(started.elapsed(), Duration::from_secs(42));
    }
}
