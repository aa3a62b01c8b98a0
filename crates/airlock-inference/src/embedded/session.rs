//! Prefix reuse: the llama.cpp contexts the embedded engine keeps between
//! the requests of one session, and what each holds.
//!
//! A session (one run, or one `airlock chat` session) sends prompts that
//! mostly extend the previous one: an agent's step is the last step's prompt
//! plus the answer and a tool result. The model's worker keeps the context
//! of the last few sessions with the tokens its KV cache holds; a request of
//! a kept session drops the cells after the longest common prefix of those
//! tokens and its prompt and reads only the rest. The bound is a count of
//! contexts per model ([`Kept`], `engine.kept-contexts`): each holds the KV
//! cache of a whole context window. The least recently used goes first, and
//! a session's context is freed when the session ends.
//!
//! Only the cache is kept: the sampler and grammar of each request are new,
//! so sampling and structured output behave as in a cold request. llama.cpp
//! does not promise that logits computed over a reused prefix equal a cold
//! run's bit for bit (batches split differently); the same sequence of calls
//! with the same policy repeats exactly.

use super::llama_backend;
use crate::{EngineError, SessionKey};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;

/// A llama.cpp context and the tokens its KV cache holds for sequence 0,
/// position by position.
pub(super) struct Slot<'m> {
    ctx: LlamaContext<'m>,
    tokens: Vec<LlamaToken>,
    n_ctx: u32,
}

impl<'m> Slot<'m> {
    /// A fresh context of `n_ctx` tokens.
    pub(super) fn new(
        model: &'m LlamaModel,
        name: &str,
        n_ctx: u32,
        threads: u32,
    ) -> Result<Self, EngineError> {
        let threads = i32::try_from(threads).unwrap_or(1);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(n_ctx)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let ctx = model.new_context(llama_backend()?, params).map_err(|e| {
            EngineError::Unavailable(format!(
                "cannot create a llama.cpp context of {n_ctx} tokens for `{name}` ({e}); lower context-length in the configuration if memory is short"
            ))
        })?;
        Ok(Self {
            ctx,
            tokens: Vec::new(),
            n_ctx,
        })
    }

    /// The context, to sample from.
    pub(super) fn ctx(&self) -> &LlamaContext<'m> {
        &self.ctx
    }

    /// Keep the longest common prefix of what the cache holds and `prompt`,
    /// drop the cells after it, and return its length: the prompt's tokens
    /// from there on are still to be decoded. At least the prompt's last
    /// token is always left to decode, so that its logits exist.
    pub(super) fn keep_prefix(&mut self, prompt: &[LlamaToken]) -> usize {
        let mut keep = common_prefix(&self.tokens, prompt);
        if keep == prompt.len() {
            keep = keep.saturating_sub(1);
        }
        if keep < self.tokens.len() {
            let removed = u32::try_from(keep)
                .ok()
                .and_then(|p0| self.ctx.clear_kv_cache_seq(Some(0), Some(p0), None).ok())
                .unwrap_or(false);
            if !removed {
                // Some memories (recurrent models) cannot drop a tail: start over.
                self.reset();
                return 0;
            }
            self.tokens.truncate(keep);
        }
        keep
    }

    /// Decode `tokens` at the next positions, with logits for the last one
    /// only. On failure the cache is emptied, so what it holds stays known.
    pub(super) fn decode(
        &mut self,
        batch: &mut LlamaBatch<'_>,
        tokens: &[LlamaToken],
    ) -> Result<(), String> {
        batch.clear();
        let start = self.tokens.len();
        let last = tokens.len().saturating_sub(1);
        for (i, token) in tokens.iter().enumerate() {
            if let Err(e) = batch.add(*token, pos(start + i), &[0], i == last) {
                return Err(format!("cannot batch the tokens: {e}"));
            }
        }
        match self.ctx.decode(batch) {
            Ok(()) => {
                self.tokens.extend_from_slice(tokens);
                Ok(())
            }
            Err(e) => {
                self.reset();
                Err(e.to_string())
            }
        }
    }

    /// Forget everything the cache holds.
    fn reset(&mut self) {
        self.ctx.clear_kv_cache();
        self.tokens.clear();
    }
}

/// How many leading tokens `a` and `b` share.
pub fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn pos(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// The contexts a model's worker keeps, by session, least recently used
/// first; at most `limit` of them.
pub(super) struct Kept<'m> {
    limit: usize,
    held: Vec<(SessionKey, Slot<'m>)>,
}

impl<'m> Kept<'m> {
    /// Keep up to `limit` contexts (0: none).
    pub(super) fn new(limit: u32) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            held: Vec::new(),
        }
    }

    /// Whether anything is ever kept.
    pub(super) fn enabled(&self) -> bool {
        self.limit > 0
    }

    /// Take `key`'s context out, if it is kept and has `n_ctx` tokens
    /// (a context of another size is freed: the request gets a new one).
    pub(super) fn take(&mut self, key: &SessionKey, n_ctx: u32) -> Option<Slot<'m>> {
        let at = self.held.iter().position(|(k, _)| k == key)?;
        let (_, slot) = self.held.remove(at);
        (slot.n_ctx == n_ctx).then_some(slot)
    }

    /// Keep `slot` for `key` as the most recently used, freeing the least
    /// recently used beyond the limit.
    pub(super) fn put(&mut self, key: SessionKey, slot: Slot<'m>) {
        if !self.enabled() {
            return;
        }
        self.held.retain(|(k, _)| *k != key);
        self.held.push((key, slot));
        let over = self.held.len().saturating_sub(self.limit);
        self.held.drain(..over);
    }

    /// Free `key`'s context: its session ended.
    pub(super) fn end(&mut self, key: &SessionKey) {
        self.held.retain(|(k, _)| k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::common_prefix;
    use llama_cpp_2::token::LlamaToken;

    fn t(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&i| LlamaToken(i)).collect()
    }

    #[test]
    fn the_common_prefix_stops_at_the_first_difference() {
        assert_eq!(common_prefix(&t(&[1, 2, 3]), &t(&[1, 2, 4, 5])), 2);
        assert_eq!(common_prefix(&t(&[1, 2]), &t(&[1, 2, 3])), 2);
        assert_eq!(common_prefix(&t(&[]), &t(&[1])), 0);
        assert_eq!(common_prefix(&t(&[9]), &t(&[1])), 0);
    }
}
