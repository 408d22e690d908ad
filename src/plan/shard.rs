//! Cutting request lines into shards under every Batch API limit at once: requests,
//! bytes, one model per file and the enqueued-token limit.

use serde::{Deserialize, Serialize};

/// The Batch API's limits on one input file.
pub const MAX_REQUESTS_PER_FILE: u64 = 50_000;
/// 200 MB, counted in decimal megabytes to stay on the safe side of the limit.
pub const MAX_BYTES_PER_FILE: u64 = 200_000_000;

/// Limits one shard must stay under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardLimits {
    pub max_requests: u64,
    pub max_bytes: u64,
    /// The enqueued prompt-token limit of the organisation for this model, if set.
    pub max_prompt_tokens: Option<u64>,
}

impl Default for ShardLimits {
    fn default() -> ShardLimits {
        ShardLimits {
            max_requests: MAX_REQUESTS_PER_FILE,
            max_bytes: MAX_BYTES_PER_FILE,
            max_prompt_tokens: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("request `{custom_id}` alone is {bytes} bytes, over the shard limit of {limit} bytes")]
    LineTooLarge {
        custom_id: String,
        bytes: u64,
        limit: u64,
    },
    #[error("request `{custom_id}` alone has {tokens} prompt tokens, over the enqueued-token limit of {limit}\nhint: raise `--enqueued-token-limit` to your organisation's real limit for this model")]
    TooManyTokens {
        custom_id: String,
        tokens: u64,
        limit: u64,
    },
}

/// What one shard holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFill {
    pub model: String,
    pub requests: u64,
    pub bytes: u64,
    pub prompt_tokens: u64,
}

/// Decides, line by line, which shard a request goes into. Streaming: it keeps only the
/// fill of the current shard.
#[derive(Debug)]
pub struct Sharder {
    limits: ShardLimits,
    current: Option<ShardFill>,
    index: usize,
}

impl Sharder {
    pub fn new(limits: ShardLimits) -> Sharder {
        Sharder {
            limits,
            current: None,
            index: 0,
        }
    }

    /// Places one line; returns the shard index and the finished previous shard, if this
    /// line starts a new one.
    pub fn place(
        &mut self,
        custom_id: &str,
        model: &str,
        bytes: u64,
        prompt_tokens: u64,
    ) -> Result<(usize, Option<ShardFill>), ShardError> {
        if bytes > self.limits.max_bytes {
            return Err(ShardError::LineTooLarge {
                custom_id: custom_id.into(),
                bytes,
                limit: self.limits.max_bytes,
            });
        }
        if let Some(limit) = self.limits.max_prompt_tokens {
            if prompt_tokens > limit {
                return Err(ShardError::TooManyTokens {
                    custom_id: custom_id.into(),
                    tokens: prompt_tokens,
                    limit,
                });
            }
        }
        let fits = self.current.as_ref().is_some_and(|fill| {
            fill.model == model
                && fill.requests < self.limits.max_requests
                && fill.bytes + bytes <= self.limits.max_bytes
                && self
                    .limits
                    .max_prompt_tokens
                    .is_none_or(|limit| fill.prompt_tokens + prompt_tokens <= limit)
        });
        let mut finished = None;
        if !fits {
            if let Some(done) = self.current.take() {
                finished = Some(done);
                self.index += 1;
            }
            self.current = Some(ShardFill {
                model: model.to_string(),
                ..ShardFill::default()
            });
        }
        let fill = self
            .current
            .as_mut()
            .expect("a shard is open: set just above");
        fill.requests += 1;
        fill.bytes += bytes;
        fill.prompt_tokens += prompt_tokens;
        Ok((self.index, finished))
    }

    /// The last shard, once every line is placed (taken: a second call gives `None`).
    pub fn finish(&mut self) -> Option<ShardFill> {
        self.current.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(requests: u64, bytes: u64, tokens: Option<u64>) -> ShardLimits {
        ShardLimits {
            max_requests: requests,
            max_bytes: bytes,
            max_prompt_tokens: tokens,
        }
    }

    fn shard_indexes(limits: ShardLimits, lines: &[(&str, u64, u64)]) -> Vec<usize> {
        let mut sharder = Sharder::new(limits);
        lines
            .iter()
            .map(|&(model, bytes, tokens)| sharder.place("id", model, bytes, tokens).unwrap().0)
            .collect()
    }

    #[test]
    fn shards_cut_at_the_request_limit() {
        let lines = [("m", 10, 1); 5];
        assert_eq!(
            shard_indexes(limits(2, 1000, None), &lines),
            [0, 0, 1, 1, 2]
        );
    }

    #[test]
    fn shards_cut_at_the_byte_limit_exactly() {
        let lines = [("m", 40, 1); 4];
        assert_eq!(shard_indexes(limits(100, 80, None), &lines), [0, 0, 1, 1]);
        assert_eq!(shard_indexes(limits(100, 79, None), &lines), [0, 1, 2, 3]);
    }

    #[test]
    fn shards_cut_at_the_token_limit() {
        let lines = [("m", 1, 30), ("m", 1, 30), ("m", 1, 50), ("m", 1, 10)];
        assert_eq!(
            shard_indexes(limits(100, 100, Some(100)), &lines),
            [0, 0, 1, 1]
        );
    }

    #[test]
    fn shards_hold_one_model_each() {
        let lines = [("a", 1, 1), ("a", 1, 1), ("b", 1, 1), ("a", 1, 1)];
        assert_eq!(shard_indexes(limits(100, 100, None), &lines), [0, 0, 1, 2]);
    }

    #[test]
    fn finished_shards_are_reported_with_their_fill() {
        let mut sharder = Sharder::new(limits(2, 100, None));
        assert_eq!(sharder.place("a", "m", 10, 5).unwrap(), (0, None));
        assert_eq!(sharder.place("b", "m", 11, 6).unwrap(), (0, None));
        let (index, finished) = sharder.place("c", "m", 12, 7).unwrap();
        assert_eq!(index, 1);
        assert_eq!(
            finished,
            Some(ShardFill {
                model: "m".into(),
                requests: 2,
                bytes: 21,
                prompt_tokens: 11
            })
        );
        assert_eq!(sharder.finish().unwrap().requests, 1);
    }

    #[test]
    fn a_request_over_a_limit_on_its_own_is_an_error() {
        let mut sharder = Sharder::new(limits(10, 100, Some(50)));
        assert!(matches!(
            sharder.place("x", "m", 101, 1),
            Err(ShardError::LineTooLarge { .. })
        ));
        let error = sharder.place("x", "m", 1, 51).unwrap_err();
        assert!(error.to_string().contains("--enqueued-token-limit"));
    }
}
