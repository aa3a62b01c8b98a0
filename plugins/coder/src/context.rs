//! Keeping the conversation inside the model's context window.
//!
//! The system prompt and the current task are always sent whole: if they do
//! not fit, the run fails and says so, rather than cut the task. Then the
//! agent's own steps are kept, newest first: old results are shortened to a
//! one-line note before any step is dropped. Earlier turns of a chat come
//! last, newest first, as room allows. Whatever was shortened or dropped is
//! counted, so the agent can tell the user.

/// Tokens added per message by chat templates (role markers, separators).
pub const MESSAGE_OVERHEAD: u32 = 8;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

/// An earlier exchange in a chat session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Turn {
    pub user: String,
    pub assistant: String,
}

/// One step of the agent: what the model wrote (a tool call, or an edit)
/// and the message that answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The model's reply, as it wrote it.
    pub call: String,
    /// The next user message: the result, as the model sees it.
    pub observation: String,
    /// The result in one line, for when there is no room for all of it.
    pub short: String,
}

/// Everything that could be sent.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub system: String,
    pub history: Vec<Turn>,
    /// The message that carries the task, sent whole.
    pub task: String,
    pub steps: Vec<Step>,
}

/// What is sent, and what had to give way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fitted {
    pub messages: Vec<(Role, String)>,
    /// Tokens of the messages, overhead included.
    pub tokens: u32,
    /// Earlier chat turns left out.
    pub dropped_turns: usize,
    /// Steps whose result was shortened to one line.
    pub shortened_steps: usize,
    /// Oldest steps left out entirely.
    pub dropped_steps: usize,
}

/// Why nothing could be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitError {
    /// The system prompt and the task alone exceed the budget.
    TaskTooLong { needed: u32, budget: u32 },
    /// Counting tokens failed (the host's message).
    Count(String),
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::TaskTooLong { needed, budget } => write!(
                f,
                "the task and the agent's instructions take {needed} tokens, more than the \
                 {budget} the model's context leaves for a prompt: shorten the task or use a \
                 model with a longer context"
            ),
            FitError::Count(e) => write!(f, "cannot count tokens: {e}"),
        }
    }
}

/// Fit `conv` into `budget` tokens, counting with `count`.
pub fn fit<E: std::fmt::Display>(
    conv: &Conversation,
    budget: u32,
    mut count: impl FnMut(&str) -> Result<u32, E>,
) -> Result<Fitted, FitError> {
    let mut tokens = |text: &str| {
        count(text)
            .map(|n| n + MESSAGE_OVERHEAD)
            .map_err(|e| FitError::Count(e.to_string()))
    };
    let task_message = conv.task.clone();
    let fixed = tokens(&conv.system)? + tokens(&task_message)?;
    if fixed > budget {
        return Err(FitError::TaskTooLong {
            needed: fixed,
            budget,
        });
    }
    let mut left = budget - fixed;

    // The agent's steps, newest first: whole, then shortened, then dropped.
    let n = conv.steps.len();
    let mut full = vec![0u32; n];
    let mut short = vec![0u32; n];
    for (i, step) in conv.steps.iter().enumerate() {
        let call = tokens(&step.call)?;
        full[i] = call + tokens(&step.observation)?;
        short[i] = call + tokens(&step.short)?;
    }
    // keep[i]: 2 whole, 1 shortened, 0 dropped. First keep as many steps
    // as fit as one-line notes (newest first), then give the newest their
    // whole results while room allows: a step is dropped only when not even
    // its note fits.
    let mut keep = vec![0u8; n];
    for i in (0..n).rev() {
        if short[i] > left {
            break;
        }
        keep[i] = 1;
        left -= short[i];
    }
    for i in (0..n).rev() {
        if keep[i] == 0 {
            break;
        }
        let extra = full[i].saturating_sub(short[i]);
        if extra > left {
            break;
        }
        keep[i] = 2;
        left -= extra;
    }

    // Earlier turns, newest first, in what is left.
    let mut turns = Vec::new();
    for turn in conv.history.iter().rev() {
        let cost = tokens(&turn.user)? + tokens(&turn.assistant)?;
        if cost > left {
            break;
        }
        left -= cost;
        turns.push(turn);
    }
    turns.reverse();

    let dropped_steps = keep.iter().take_while(|k| **k == 0).count();
    let mut messages = vec![(Role::System, conv.system.clone())];
    for turn in &turns {
        messages.push((Role::User, turn.user.clone()));
        messages.push((Role::Assistant, turn.assistant.clone()));
    }
    let mut task = task_message;
    if dropped_steps > 0 {
        task.push_str(&format!(
            "\n\n({dropped_steps} earlier step(s) were left out to save room.)"
        ));
    }
    messages.push((Role::User, task));
    for (step, k) in conv.steps.iter().zip(&keep) {
        let observation = match k {
            2 => &step.observation,
            1 => &step.short,
            _ => continue,
        };
        messages.push((Role::Assistant, step.call.clone()));
        messages.push((Role::User, observation.clone()));
    }
    Ok(Fitted {
        messages,
        tokens: budget - left,
        dropped_turns: conv.history.len() - turns.len(),
        shortened_steps: keep.iter().filter(|k| **k == 1).count(),
        dropped_steps,
    })
}

/// The message that carries the task.
pub fn task_message(task: &str) -> String {
    format!("Task: {task}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token per four characters, like a tokenizer on English text.
    fn count(text: &str) -> Result<u32, String> {
        Ok(u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX))
    }

    fn step(i: usize, size: usize) -> Step {
        Step {
            call: format!("{{\"tool\":\"read_file\",\"path\":\"f{i}\"}}"),
            observation: "x".repeat(size),
            short: format!("(f{i}: {size} bytes, shown earlier)"),
        }
    }

    fn conv(steps: Vec<Step>, history: Vec<Turn>) -> Conversation {
        Conversation {
            system: "You are a coding agent.".into(),
            history,
            task: task_message("Fix the bug in f1."),
            steps,
        }
    }

    #[test]
    fn everything_is_kept_when_it_fits() {
        let c = conv(vec![step(1, 40), step(2, 40)], vec![]);
        let f = fit(&c, 1000, count).expect("fits");
        assert_eq!(f.messages.len(), 1 + 1 + 4);
        assert_eq!(
            (f.shortened_steps, f.dropped_steps, f.dropped_turns),
            (0, 0, 0)
        );
        assert!(f.tokens <= 1000);
    }

    #[test]
    fn old_results_are_shortened_before_steps_are_dropped() {
        let c = conv((0..6).map(|i| step(i, 800)).collect(), vec![]);
        let f = fit(&c, 700, count).expect("fits");
        assert!(f.tokens <= 700, "{} tokens", f.tokens);
        // The newest result is whole; older ones are notes or gone.
        let last = &f.messages.last().expect("a message").1;
        assert_eq!(last, &"x".repeat(800));
        assert!(f.shortened_steps > 0, "{f:?}");
        assert_eq!(f.dropped_steps, 0, "notes fit, so no step is dropped");
        // Whole results are the newest ones, after every shortened one.
        let kinds: Vec<bool> = f
            .messages
            .iter()
            .filter(|(r, m)| *r == Role::User && !m.starts_with("Task: "))
            .map(|(_, m)| m.len() >= 800)
            .collect();
        let first_whole = kinds.iter().position(|w| *w).expect("one whole");
        assert!(kinds[first_whole..].iter().all(|w| *w), "{kinds:?}");
    }

    #[test]
    fn steps_are_dropped_oldest_first_and_the_model_is_told() {
        let c = conv((0..60).map(|i| step(i, 400)).collect(), vec![]);
        let f = fit(&c, 600, count).expect("fits");
        assert!(f.dropped_steps > 0);
        assert!(f.tokens <= 600);
        let task = f
            .messages
            .iter()
            .find(|(_, m)| m.starts_with("Task: "))
            .expect("task sent");
        assert!(
            task.1.contains("earlier step(s) were left out"),
            "{}",
            task.1
        );
        // What is kept is the newest: the last call names the last file.
        let calls: Vec<&String> = f
            .messages
            .iter()
            .filter(|(r, _)| *r == Role::Assistant)
            .map(|(_, m)| m)
            .collect();
        assert!(calls.last().expect("a call").contains("f59"));
    }

    #[test]
    fn the_task_is_never_cut_and_history_gives_way_first() {
        let history: Vec<Turn> = (0..50)
            .map(|i| Turn {
                user: format!("question {i} {}", "q".repeat(300)),
                assistant: format!("answer {i} {}", "a".repeat(300)),
            })
            .collect();
        let mut c = conv(vec![step(1, 200)], history);
        c.task = task_message(&format!("Please do this: {}", "t".repeat(1200)));
        let f = fit(&c, 1200, count).expect("fits");
        assert!(f.tokens <= 1200);
        assert!(f.dropped_turns > 0 && f.dropped_turns < 50);
        assert!(f.messages.iter().any(|(_, m)| m == &c.task));
        // The turns that are kept are the newest.
        assert!(
            f.messages[1]
                .1
                .starts_with(&format!("question {}", f.dropped_turns))
        );
        assert_eq!(f.shortened_steps + f.dropped_steps, 0);
    }

    #[test]
    fn a_task_too_long_for_the_model_is_an_error_not_a_cut() {
        let mut c = conv(vec![], vec![]);
        c.task = "t".repeat(10_000);
        let err = fit(&c, 500, count).expect_err("too long");
        assert!(matches!(err, FitError::TaskTooLong { .. }));
        assert!(err.to_string().contains("shorten the task"));
    }
}
