//! The shell-word splitter: cuts a script into simple commands of unquoted
//! words.

/// The unquoted words of a line, as a shell would split it (separators
/// between commands count as spaces).
pub(super) fn split_words(text: &str) -> Vec<String> {
    Lexer::new(text).run().commands.concat()
}

/// A script cut into simple commands.
#[derive(Default)]
pub(super) struct Lexed {
    /// Each simple command, as its unquoted words.
    pub(super) commands: Vec<Vec<String>>,
    /// The bodies of command substitutions found inside double quotes,
    /// which run as scripts of their own.
    pub(super) inner: Vec<String>,
}

/// What becomes of the word after a redirection operator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// An argument: no redirection is pending.
    Argument,
    /// It names a file, not an argument: dropped.
    File,
    /// It is a here-string (`<<< 'text'`), which may feed a shell: read as
    /// a script.
    Text,
}

/// Cuts a shell script into simple commands of unquoted words: an
/// approximation of the shell's grammar, good enough to find the programs a
/// script runs. It reads any input to the end and never fails.
pub(super) struct Lexer {
    /// The script.
    chars: Vec<char>,
    /// The next character to read.
    pos: usize,
    /// The word being read.
    word: String,
    /// Whether a word is being read (it may be empty: `''`).
    in_word: bool,
    /// The words of the command being read.
    words: Vec<String>,
    /// What the next word is, after a redirection.
    target: Target,
    /// How many brace expansions (`{a,b}`) are open.
    braces: usize,
    /// What has been read.
    lexed: Lexed,
}

impl Lexer {
    pub(super) fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            pos: 0,
            word: String::new(),
            in_word: false,
            words: Vec::new(),
            target: Target::Argument,
            braces: 0,
            lexed: Lexed::default(),
        }
    }

    pub(super) fn run(mut self) -> Lexed {
        while let Some(c) = self.bump() {
            self.step(c);
        }
        self.end_command();
        self.lexed
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    fn push(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn end_word(&mut self) {
        if self.in_word {
            let word = std::mem::take(&mut self.word);
            match std::mem::replace(&mut self.target, Target::Argument) {
                Target::Argument => self.words.push(word),
                Target::File => {}
                Target::Text => self.lexed.inner.push(word),
            }
        }
        self.in_word = false;
    }

    fn end_command(&mut self) {
        self.end_word();
        self.target = Target::Argument;
        self.braces = 0;
        if !self.words.is_empty() {
            self.lexed.commands.push(std::mem::take(&mut self.words));
        }
    }

    fn step(&mut self, c: char) {
        match c {
            ' ' | '\t' | '\r' => self.end_word(),
            '\n' | ';' | '&' | '|' | '(' | ')' | '`' => self.end_command(),
            '{' => self.open_brace(),
            '}' => self.close_brace(),
            ',' if self.braces > 0 => self.end_word(),
            '\\' => self.escaped(),
            '\'' => self.single_quoted(),
            '"' => self.double_quoted(),
            '$' => self.dollar(),
            '<' | '>' => self.redirect(c),
            _ => self.push(c),
        }
    }

    /// `{ …; }` groups commands; `{a,b}` expands to words.
    fn open_brace(&mut self) {
        if self.peek().is_none_or(char::is_whitespace) {
            self.end_command();
        } else {
            self.end_word();
            self.braces += 1;
        }
    }

    fn close_brace(&mut self) {
        if self.braces > 0 {
            self.braces -= 1;
            self.end_word();
        } else {
            self.end_command();
        }
    }

    fn escaped(&mut self) {
        match self.bump() {
            Some('\n') | None => {}
            Some(c) => self.push(c),
        }
    }

    fn single_quoted(&mut self) {
        self.in_word = true;
        while let Some(c) = self.bump() {
            if c == '\'' {
                return;
            }
            self.word.push(c);
        }
    }

    fn double_quoted(&mut self) {
        self.in_word = true;
        while let Some(c) = self.bump() {
            match c {
                '"' => return,
                '\\' => match self.peek() {
                    Some(n @ ('"' | '\\' | '$' | '`')) => {
                        self.pos += 1;
                        self.word.push(n);
                    }
                    Some('\n') => self.pos += 1,
                    _ => self.word.push('\\'),
                },
                '$' if self.peek() == Some('(') => {
                    self.pos += 1;
                    let body = self.parenthesised();
                    self.lexed.inner.push(body);
                }
                '`' => {
                    let body = self.backquoted();
                    self.lexed.inner.push(body);
                }
                _ => self.word.push(c),
            }
        }
    }

    /// The text up to the `)` that closes an opened `(`.
    fn parenthesised(&mut self) -> String {
        let mut body = String::new();
        let mut open = 1_usize;
        while let Some(c) = self.bump() {
            match c {
                '(' => open += 1,
                ')' => {
                    open -= 1;
                    if open == 0 {
                        break;
                    }
                }
                _ => {}
            }
            body.push(c);
        }
        body
    }

    /// The text up to the closing backquote.
    fn backquoted(&mut self) -> String {
        let mut body = String::new();
        while let Some(c) = self.bump() {
            match c {
                '`' => break,
                '\\' => body.extend(self.bump()),
                _ => body.push(c),
            }
        }
        body
    }

    /// Whether `IFS` (and not a longer name) comes next.
    fn at_ifs(&self) -> bool {
        let after = self.chars.get(self.pos + 3).copied();
        self.chars.get(self.pos..self.pos + 3) == Some(&['I', 'F', 'S'][..])
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    /// `$'…'`, `$(`, `${IFS}`, `$IFS`; other expansions stay as written.
    fn dollar(&mut self) {
        match self.peek() {
            Some('\'') => {
                self.pos += 1;
                self.ansi_c_quoted();
            }
            Some('"') => {} // `$"…"` is a translated string: a plain one here.
            Some('(') => {
                self.pos += 1;
                self.end_command();
            }
            Some('{') => {
                self.pos += 1;
                let mut name = String::new();
                while let Some(c) = self.bump().filter(|c| *c != '}') {
                    name.push(c);
                }
                if name == "IFS" {
                    self.end_word();
                } else {
                    self.word.push_str("${");
                    self.word.push_str(&name);
                    self.push('}');
                }
            }
            _ if self.at_ifs() => {
                self.pos += 3;
                self.end_word();
            }
            _ => self.push('$'),
        }
    }

    /// `$'…'`, with its backslash escapes decoded (`$'\x67it'` is `git`).
    fn ansi_c_quoted(&mut self) {
        self.in_word = true;
        while let Some(c) = self.bump() {
            match c {
                '\'' => return,
                '\\' => self.ansi_c_escape(),
                _ => self.word.push(c),
            }
        }
    }

    fn ansi_c_escape(&mut self) {
        let Some(c) = self.bump() else {
            return;
        };
        let simple = match c {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'e' | 'E' => Some('\x1b'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '\'' | '"' | '?' => Some(c),
            _ => None,
        };
        if let Some(decoded) = simple {
            self.word.push(decoded);
            return;
        }
        let number = match c {
            'x' => self.digits(16, 2),
            'u' => self.digits(16, 4),
            'U' => self.digits(16, 8),
            '0'..='7' => {
                self.pos -= 1;
                self.digits(8, 3)
            }
            'c' => self.bump().map(|n| u32::from(n) & 0x1f),
            _ => None,
        };
        match number {
            Some(n) => self.word.extend(char::from_u32(n)),
            None => {
                self.word.push('\\');
                self.word.push(c);
            }
        }
    }

    /// Up to `max` digits in `radix`, as a number; `None` if there are none.
    fn digits(&mut self, radix: u32, max: usize) -> Option<u32> {
        let mut value: Option<u32> = None;
        for _ in 0..max {
            let Some(d) = self.peek().and_then(|c| c.to_digit(radix)) else {
                break;
            };
            self.pos += 1;
            value = Some(value.unwrap_or(0).wrapping_mul(radix).wrapping_add(d));
        }
        value
    }

    /// `<`, `>`, `>>`, `2>&1`, `<<EOF`, `<<<`: the file descriptor number
    /// before and the target after are not words of the command.
    fn redirect(&mut self, first: char) {
        if self.in_word && self.word.chars().all(|c| c.is_ascii_digit()) {
            self.word.clear();
            self.in_word = false;
        } else {
            self.end_word();
        }
        let mut operator = String::from(first);
        while let Some(c) = self.peek().filter(|c| matches!(c, '<' | '>' | '&' | '|')) {
            self.pos += 1;
            operator.push(c);
        }
        self.target = if operator == "<<<" {
            Target::Text
        } else {
            Target::File
        };
    }
}
