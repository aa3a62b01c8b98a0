//! One small, realistic snippet per language, with its expected outline.

use super::*;

/// `(depth, kind, name, line)` of each symbol.
fn shape(language: Language, text: &str) -> Vec<(u32, &'static str, String, u32)> {
    outline(language, text)
        .into_iter()
        .map(|s| (s.depth, s.kind, s.name, s.line))
        .collect()
}

fn sym(depth: u32, kind: &'static str, name: &str, line: u32) -> (u32, &'static str, String, u32) {
    (depth, kind, name.to_string(), line)
}

#[test]
fn rust_items_and_impl_members_but_not_fn_locals() {
    let src = r#"//! Docs mentioning fn fake() in prose.
use std::fmt;

pub const MAX_DEPTH: usize = 8;
static mut COUNTER: u32 = 0;

/// A config.
pub(crate) struct Config {
    name: String,
}

pub enum Mode { Fast, Slow }

pub trait Render {
    fn render(&self) -> String;
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn helper() {}
        write!(f, "{}", self.name)
    }
}

impl<T: Clone> Wrapper<T> where T: Send {
    pub const fn new() -> Self { todo!() }
}

pub async fn parse_args() {}

macro_rules! square { ($x:expr) => { $x * $x }; }

#[cfg(test)]
mod tests {
    #[test]
    fn works() {}
}
"#;
    assert_eq!(
        shape(Language::Rust, src),
        [
            sym(0, "const", "MAX_DEPTH", 4),
            sym(0, "static", "COUNTER", 5),
            sym(0, "struct", "Config", 8),
            sym(0, "enum", "Mode", 12),
            sym(0, "trait", "Render", 14),
            sym(1, "fn", "render", 15),
            sym(0, "impl", "fmt::Display for Config", 18),
            sym(1, "fn", "fmt", 19),
            sym(0, "impl", "Wrapper<T>", 25),
            sym(1, "fn", "new", 26),
            sym(0, "fn", "parse_args", 29),
            sym(0, "macro", "square", 31),
            sym(0, "mod", "tests", 34),
            sym(1, "fn", "works", 36),
        ]
    );
}

#[test]
fn python_nests_by_indentation() {
    let src = "\
import os

class Parser:
    \"\"\"Parses.\"\"\"

    def __init__(self):
        pass

    async def run(self):
        def inner():
            return 1
        return inner()

def main():
    pass
";
    assert_eq!(
        shape(Language::Python, src),
        [
            sym(0, "class", "Parser", 3),
            sym(1, "def", "__init__", 6),
            sym(1, "def", "run", 9),
            sym(2, "def", "inner", 10),
            sym(0, "def", "main", 14),
        ]
    );
}

#[test]
fn c_definitions_not_prototypes_or_calls() {
    let src = "\
#include <stdio.h>
#define MAX_LEN 64
#  define LOG(x) puts(x)

struct point {
    int x, y;
};

typedef struct node {
    struct node *next;
} node_t;

enum color { RED, GREEN };

struct point origin;
int area(int w, int h);

static int
area_of(const struct point *p)
{
    return p->x * p->y;
}

struct point *make_point(int x,
                         int y) {
    if (x) {
        printf(\"%d\", x);
    }
    return 0;
}

int main(void) { return area(1, 2); }
";
    assert_eq!(
        shape(Language::C, src),
        [
            sym(0, "macro", "MAX_LEN", 2),
            sym(0, "macro", "LOG", 3),
            sym(0, "struct", "point", 5),
            sym(0, "struct", "node", 9),
            sym(0, "enum", "color", 13),
            sym(0, "function", "area_of", 19),
            sym(0, "function", "make_point", 24),
            sym(0, "function", "main", 32),
        ]
    );
}

#[test]
fn cpp_namespaces_classes_and_qualified_methods() {
    let src = "\
namespace geo {

template <typename T>
class Shape : public Base {
  public:
    virtual double area() const = 0;
    struct Cache {
        int hits;
    };
};

class Shape;

enum class Kind : int { Circle, Square };

double Shape::area() const {
    return 0.0;
}

Shape::~Shape()
{
}

}  // namespace geo
";
    assert_eq!(
        shape(Language::Cpp, src),
        [
            sym(0, "namespace", "geo", 1),
            sym(0, "class", "Shape", 4),
            sym(1, "struct", "Cache", 7),
            sym(0, "enum", "Kind", 14),
            sym(0, "function", "Shape::area", 16),
            sym(0, "function", "Shape::~Shape", 20),
        ]
    );
}

#[test]
fn ada_packages_subprograms_tasks_protected_and_types() {
    let spec = "\
with Ada.Text_IO;

package Sensors is
   type Reading is range 0 .. 1_000;
   subtype Small is Reading range 0 .. 10;

   function Average (A, B : Reading) return Reading
     with Post => Average'Result <= Reading'Max (A, B);

   procedure Reset;

   protected type Buffer is
      procedure Put (R : Reading);
   private
      Last : Reading := 0;
   end Buffer;

   task type Poller;
end Sensors;
";
    assert_eq!(
        shape(Language::Ada, spec),
        [
            sym(0, "package", "Sensors", 3),
            sym(1, "type", "Reading", 4),
            sym(1, "subtype", "Small", 5),
            sym(1, "function", "Average", 7),
            sym(1, "procedure", "Reset", 10),
            sym(1, "protected", "Buffer", 12),
            sym(2, "procedure", "Put", 13),
            sym(1, "task", "Poller", 18),
        ]
    );

    let body = "\
PACKAGE BODY Sensors IS
   overriding procedure Reset is
      function Helper return Boolean is (True);
   begin
      null;
   end Reset;

   task body Poller is
   begin
      null;
   end Poller;

   protected body Buffer is
      procedure Put (R : Reading) is
      begin
         Last := R;
      end Put;
   end Buffer;

   function \"+\" (L, R : Reading) return Reading is (L);
end Sensors;
";
    assert_eq!(
        shape(Language::Ada, body),
        [
            sym(0, "package body", "Sensors", 1),
            sym(1, "procedure", "Reset", 2),
            sym(2, "function", "Helper", 3),
            sym(1, "task body", "Poller", 8),
            sym(1, "protected body", "Buffer", 13),
            sym(2, "procedure", "Put", 14),
            sym(1, "function", "\"+\"", 20),
        ]
    );
}

#[test]
fn vhdl_entities_architectures_components_and_processes() {
    let src = "\
library ieee;
use ieee.std_logic_1164.all;

entity counter is
  port (clk : in std_logic; q : out std_logic_vector(7 downto 0));
end entity counter;

ARCHITECTURE rtl OF counter IS
  component adder is
    port (a, b : in std_logic);
  end component;
  signal count : unsigned(7 downto 0);
begin
  tick : process (clk)
  begin
    if rising_edge(clk) then
      count <= count + 1;
    end if;
  end process tick;

  process (count) begin
    q <= std_logic_vector(count);
  end process;
end architecture rtl;

package util_pkg is
  function parity (v : std_logic_vector) return std_logic;
end package;

package body util_pkg is
  pure function parity (v : std_logic_vector) return std_logic is
  begin
    return xor v;
  end function;
end package body;
";
    assert_eq!(
        shape(Language::Vhdl, src),
        [
            sym(0, "entity", "counter", 4),
            sym(0, "architecture", "rtl of counter", 8),
            sym(1, "component", "adder", 9),
            sym(1, "process", "tick", 14),
            sym(0, "package", "util_pkg", 26),
            sym(1, "function", "parity", 27),
            sym(0, "package body", "util_pkg", 30),
            sym(1, "function", "parity", 31),
        ]
    );
}

#[test]
fn verilog_modules_functions_tasks_and_interfaces() {
    let src = "\
`timescale 1ns/1ps
module alu #(parameter W = 8) (
  input  [W-1:0] a, b,
  output [W-1:0] y
);
  function [W-1:0] add(input [W-1:0] x, z);
    add = x + z;
  endfunction

  task automatic reset_all;
  endtask
endmodule

interface bus_if (input clk);
endinterface

class driver;
  virtual function void build();
  endfunction
endclass
";
    assert_eq!(
        shape(Language::Verilog, src),
        [
            sym(0, "module", "alu", 2),
            sym(1, "function", "add", 6),
            sym(1, "task", "reset_all", 10),
            sym(0, "interface", "bus_if", 14),
            sym(0, "class", "driver", 17),
            sym(1, "function", "build", 18),
        ]
    );
}

#[test]
fn go_functions_methods_and_types() {
    let src = "\
package main

type Server struct {
\taddr string
}

type (
\tID int
\tStore interface {
\t\tGet(id ID) string
\t}
)

func NewServer(addr string) *Server {
\treturn &Server{addr: addr}
}

func (s *Server) Start() error {
\treturn nil
}

func (l List[T]) Len() int { return 0 }
";
    assert_eq!(
        shape(Language::Go, src),
        [
            sym(0, "type", "Server", 3),
            sym(0, "type", "ID", 8),
            sym(0, "type", "Store", 9),
            sym(0, "func", "NewServer", 14),
            sym(0, "method", "Server.Start", 18),
            sym(0, "method", "List.Len", 22),
        ]
    );
}

#[test]
fn java_types_and_methods() {
    let src = "\
package com.example;

public final class Inventory {
    private final Map<String, Integer> counts = new HashMap<>();

    public Inventory(int size) {
        this.size = size;
    }

    @Override
    public synchronized Map<String, List<Integer>> snapshot(boolean deep) {
        if (deep) {
            return copy(counts);
        } else if (counts.isEmpty()) {
            return null;
        }
        return counts;
    }

    static <T> T first(List<T> items) {
        return items.get(0);
    }

    interface Listener {
        void changed(String key);
    }

    enum Kind { A, B }
}
";
    assert_eq!(
        shape(Language::Java, src),
        [
            sym(0, "class", "Inventory", 3),
            sym(1, "method", "Inventory", 6),
            sym(1, "method", "snapshot", 11),
            sym(1, "method", "first", 20),
            sym(1, "interface", "Listener", 24),
            sym(1, "enum", "Kind", 28),
        ]
    );
}

#[test]
fn javascript_and_shell_top_level_functions() {
    let js = "\
export default async function main(argv) {
  function local() {}
}
export class Store {}
const add = (a, b) => a + b;
export interface Props { id: string }
type Id = string;
";
    assert_eq!(
        shape(Language::JavaScript, js),
        [
            sym(0, "function", "main", 1),
            sym(0, "class", "Store", 4),
            sym(0, "function", "add", 5),
            sym(0, "interface", "Props", 6),
            sym(0, "type", "Id", 7),
        ]
    );
    let sh = "#!/bin/sh\nusage() {\n  echo hi\n}\nfunction build {\n  make\n}\n";
    assert_eq!(
        shape(Language::Shell, sh),
        [
            sym(0, "function", "usage", 2),
            sym(0, "function", "build", 5)
        ]
    );
}

#[test]
fn data_and_other_files_have_no_outline() {
    assert!(outline(Language::DataDocs, "fn main() {}").is_empty());
    assert!(outline(Language::Other, "def f(): pass").is_empty());
}
