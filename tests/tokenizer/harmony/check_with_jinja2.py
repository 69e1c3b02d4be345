#!/usr/bin/env python3
"""Renders every case of harmony_chat.jsonl again with Python's Jinja2, set up as Hugging Face
transformers sets it up for apply_chat_template (sandboxed, trim_blocks, lstrip_blocks, tojson as
json.dumps with ensure_ascii=False), and checks that both renderers agree: the goldens come from
@huggingface/jinja, and this shows they are also what transformers itself renders.
Run: python3 check_with_jinja2.py"""
import json
import sys
from pathlib import Path

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

here = Path(__file__).parent


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    template = env.from_string((here / "chat_template.jinja").read_text(encoding="utf-8"))
    n_same = n_diff = 0
    for line in (here / "harmony_chat.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        opts = case["options"]
        kwargs = {k: opts[k] for k in ("reasoning_effort", "model_identity") if k in opts}
        date = opts["date"]
        try:
            got = template.render(messages=case["messages"], tools=case.get("tools"),
                                  add_generation_prompt=opts["add_generation_prompt"],
                                  strftime_now=lambda fmt: date, **kwargs)
        except jinja2.exceptions.TemplateError as e:
            got = {"error": str(e)}
        want = {"error": case["error"]} if "error" in case else case["rendered"]
        if got == want:
            n_same += 1
        else:
            n_diff += 1
            print(f"{case['name']}: Jinja2 renders {got!r}\n  @huggingface/jinja rendered {want!r}")
    print(f"{n_same} cases agree, {n_diff} differ")
    return 1 if n_diff else 0


if __name__ == "__main__":
    sys.exit(main())
