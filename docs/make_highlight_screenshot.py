"""A screenshot of FluentAI highlighted by the project's Pygments lexer, for docs/editors.md:

    docs/screenshots/highlighting.png   three parts of examples/chat.flc, with their line
                                        numbers, as Pygments' HtmlFormatter renders them

Run it from anywhere, after `pip install -e '.[test]'`, with a Chromium installed
(Debian's `chromium`, or see tests/browser/chat_harness.py, `find_chromium`):

    python docs/make_highlight_screenshot.py [--html FILE]

The code goes through `FluentAILexer` and `HtmlFormatter` (what Sphinx and MkDocs do with a
fenced ```fluentai block) and the page is photographed by the headless Chromium of the
browser tests (tests/browser/chat_harness.py). `--html FILE` also keeps the page.
"""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT))

from chat_harness import CHROMIUM_MISSING, find_chromium, launch_browser  # noqa: E402

from fluentai.frontends.pygments_lexer import FluentAILexer  # noqa: E402

SOURCE = ROOT / "examples" / "chat.flc"
OUT = ROOT / "docs" / "screenshots" / "highlighting.png"
# Line ranges (first, last; 1-based, inclusive) of examples/chat.flc: starting the server
# (perform, .await(), f-strings), the WebSocket handlers (async, match, try/catch), and
# `say` (an f-string holding a call with a string argument).
PARTS = [(47, 52), (88, 111), (147, 157)]
STYLE = "friendly"  # light, with distinct colours for every token kind the lexer produces

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>
  body {{ margin: 0; background: #e8e8e8; }}
  main {{ display: inline-block; padding: 20px 24px; background: {background}; }}
  h1 {{ font: 600 15px "DejaVu Sans", sans-serif; color: #555; margin: 0 0 12px; }}
  pre {{ font: 14px/1.45 "DejaVu Sans Mono", monospace; margin: 0; }}
  .gap {{ font: 14px "DejaVu Sans Mono", monospace; color: #999; margin: 6px 0; }}
  .linenos {{ color: #999; padding-right: 14px; user-select: none; }}
  {css}
</style></head>
<body><main><h1>{title}</h1>{blocks}</main></body></html>
"""


def render() -> str:
    lines = SOURCE.read_text(encoding="utf-8").split("\n")
    # Line numbers of one width for all parts, so that their code lines up. HtmlFormatter
    # closes its spans at each line end, so its output can be split into lines.
    width = len(str(max(last for _, last in PARTS)))
    formatter = HtmlFormatter(style=STYLE, nowrap=True)
    blocks = []
    for first, last in PARTS:
        code = "\n".join(lines[first - 1:last]) + "\n"
        highlighted = highlight(code, FluentAILexer(), formatter).rstrip("\n").split("\n")
        numbered = [f'<span class="linenos">{n:>{width}}</span>{line}'
                    for n, line in enumerate(highlighted, first)]
        blocks.append('<pre class="highlight">' + "\n".join(numbered) + "</pre>")
    return PAGE.format(
        background=formatter.style.background_color,
        css=formatter.get_style_defs(".highlight"),
        title=html.escape(f"{SOURCE.relative_to(ROOT)} — highlighted by the FluentAI "
                          f"Pygments lexer (style: {STYLE})"),
        blocks='<div class="gap">⋮</div>'.join(blocks),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, help="also write the page to this file")
    options = parser.parse_args()
    executable = find_chromium()
    if executable is None:
        print(CHROMIUM_MISSING, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    page_html = render()
    if options.html:
        options.html.write_text(page_html, encoding="utf-8")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_browser(playwright, executable)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
        page.set_content(page_html)
        page.locator("main").screenshot(path=OUT)
        browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
