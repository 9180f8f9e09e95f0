"""`explain` shows internal names that no parameter can be named (a user's `inflow5` cannot
collide with the chain's intermediate values)."""

import re

import llmarch

SOURCE = """
param inflow5 = 2
param inflow6 = 3
traffic = 100 requests/day
tool a { cost = 0.01 USD * inflow5 }
tool b { cost = 0.02 USD * inflow6 }
tool c { cost = 0.01 USD }
flow {
  start -> a
  a -> b (p = 40%)
  a -> c (otherwise)
  b -> a (p = 30%)
}
"""


def test_intermediate_names_cannot_be_written_by_a_user():
    text = llmarch.loads(SOURCE).explain()
    assert "chain of definitions" in text            # the loop makes explain print the chain
    assert re.search(r"inflow\[\d+\]", text)         # intermediates are bracketed
    # every bare `inflowN` on the page is one of the user's two parameters
    assert set(re.findall(r"\binflow\d+\b(?!\])", text)) <= {"inflow5", "inflow6"}
