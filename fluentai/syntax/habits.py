"""Other languages' habits that reach FluentAI as names, and what to write instead:
`function(x) { … }`, `async x => …`, `await f()`, `var`, `def`, `None`, `use` inside a
function. One table for every place that words such a mistake: the resolver's messages for
undefined names (`resolve.hints`) and the error for a name followed by more code on its
line (`lone_name`, `habit`: for the parser's check of statement separators too).
"""

from __future__ import annotations

# FluentAI keywords that reach the resolver as names because the (contextual) grammar does
# not expect them where they stand: the message replaces "'x' is not defined".
MISPLACED_KEYWORDS = {
    "function": "'function' declares a named function and cannot start an expression: "
                "write a lambda, 'x => x + 1' or '(a, b) => { … }'",
    "async": "'async' only marks a function declaration ('async function f() { … }'); "
             "lambdas cannot be async",
    "use": "'use' is only allowed at the top level of a file, outside functions and blocks: "
           "move it to the top",
    "public": "'public' marks a top-level declaration; it is not allowed inside a function "
              "or block",
    "private": "'private' marks a top-level declaration; it is not allowed inside a function "
               "or block",
}

# Keywords that can never name a value (`let function = 1` does not parse): any use of one
# as a name is a static error, before the program runs.
NEVER_NAMES = frozenset({"function", "async"})

# Other languages' spellings: the message is "'x' is not defined: <hint>".
FOREIGN_WORDS = {
    "await": "FluentAI has no 'await' keyword; put '.await()' after the promise, as in "
             "'f().await()'",
    "var": "declare variables with 'let' (or 'const')",
    "def": "declare functions with 'function name(params) { … }'",
    "fn": "declare functions with 'function name(params) { … }'",
    "func": "declare functions with 'function name(params) { … }'",
    "fun": "declare functions with 'function name(params) { … }'",
    "lambda": "write a lambda as 'x => x + 1' or '(a, b) => { … }'",
    "elif": "write 'else if'",
    "elsif": "write 'else if'",
    "elseif": "write 'else if'",
    "import": "modules are brought in with 'use name' at the top of the file",
    "require": "modules are brought in with 'use name' at the top of the file",
    "include": "modules are brought in with 'use name' at the top of the file",
    "None": "FluentAI writes 'nil'",
    "undefined": "FluentAI writes 'nil'",
    "True": "FluentAI writes 'true'",
    "False": "FluentAI writes 'false'",
    "switch": "use 'match value { pattern => result, … }'",
    "case": "use 'match value { pattern => result, … }'",
    "console": "print with 'print(value)'",
    "println": "'print(value)' prints a line",
    "puts": "'print(value)' prints a line",
    "echo": "'print(value)' prints a line",
    "this": "there are no classes: pass the map a function works on as a parameter",
    "self": "there are no classes: pass the map a function works on as a parameter",
    "new": "there are no classes: build values with literals ('{\"k\": v}', '[1, 2]')",
    "class": "there are no classes: use maps for data and functions for behaviour",
    "struct": "there are no structs: use maps ('{\"name\": \"Ann\"}')",
    "Math": "numbers use global functions: abs, floor, ceil, round, sqrt, min, max",
    "JSON": "use 'value.to_json()' and 'text.from_json()'",
}


def habit(name: str) -> str | None:
    """The error for `name` standing where the parser saw it only as a name followed by
    more code (`let v = await f()`, `var x = 1`, `use http` inside a function), when it is a
    misplaced keyword or another language's word; else None."""
    if name in MISPLACED_KEYWORDS:
        return MISPLACED_KEYWORDS[name]
    if name in FOREIGN_WORDS:
        return f"unexpected code after '{name}': {FOREIGN_WORDS[name]}"
    return None


def lone_name(name: str) -> str:
    """The error for a name followed by more code on its line (`functoin f() {}`,
    `var x = 1`, `use http` inside a function)."""
    return habit(name) or (
        f"unexpected code after '{name}' on the same line: is '{name}' a misspelt keyword? "
        f"(separate statements with ';' or a newline)")
