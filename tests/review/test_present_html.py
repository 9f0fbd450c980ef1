"""The page's precomputed HTML pieces (`present.words_html`, `present.add_label_options`) give
what the template loops they replace gave, escaped the same way."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from review import present

WORDS_LOOP = ('{% for a, b, w in words %}<span class="w" tabindex="0" data-s="{{ a }}" data-e="{{ b }}">'
              '{{ w }}</span> {% else %}{{ text }}{% endfor %}')
OPTIONS_LOOP = ('{% for lab in labels if lab not in on or lab in dismissed %}'
                '<option value="{{ lab }}">{{ label_title(lab) }}</option>{% endfor %}')


def _env():
    from jinja2 import Environment

    env = Environment(autoescape=True)
    env.globals.update(label_title=present.label_title, words_html=present.words_html,
                       add_label_options=present.add_label_options)
    return env


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 1e4), texts), max_size=6), texts)
def test_words_html_equals_the_template_loop(words, text):
    env = _env()
    words = tuple(words)
    assert env.from_string("{{ words_html(words, text) }}").render(words=words, text=text) \
        == env.from_string(WORDS_LOOP).render(words=words, text=text)


@given(st.lists(st.sampled_from(["a_b", "c<d", "e&f", "g"]), unique=True),
       st.lists(st.sampled_from(["a_b", "c<d", "x"]), unique=True),
       st.lists(st.sampled_from(["a_b", "g"]), unique=True))
def test_label_options_equal_the_template_loop(labels, on, dismissed):
    env = _env()
    ctx = {"labels": tuple(labels), "on": tuple(on), "dismissed": dict.fromkeys(dismissed, 1)}
    got = env.from_string("{{ add_label_options(labels, on, dismissed) }}").render(**ctx)
    assert re.sub(r"\s+", "", got) == re.sub(r"\s+", "", env.from_string(OPTIONS_LOOP).render(**ctx))


def test_markup_in_words_is_escaped():
    html = str(present.words_html(((0.0, 1.0, "<script>x</script>"),), ""))
    assert "<script>" not in html and "&lt;script&gt;" in html
