"""make_code: digits only, no leading zero, uniform, safe across threads."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from wingapp.codes.generator import MAX_DIGITS, make_code

# Upper 0.999 quantiles of the chi-square distribution: a fair generator
# fails each uniformity test once in a thousand runs.
CHI2_999_9_DF = 27.877
CHI2_999_8_DF = 26.124
SAMPLES = 100_000


def chi_square(counts: Counter, symbols: str) -> float:
    total = sum(counts[s] for s in symbols)
    expected = total / len(symbols)
    return sum((counts[s] - expected) ** 2 / expected for s in symbols)


@pytest.mark.parametrize("digits", range(1, MAX_DIGITS + 1))
def test_codes_have_the_length_asked_for_and_no_leading_zero(digits):
    codes = [make_code(digits) for _ in range(2_000)]
    assert all(len(code) == digits for code in codes)
    assert all(code.isascii() and code.isdigit() for code in codes)
    assert all(code[0] != "0" for code in codes)


def test_default_is_six_digits():
    assert len(make_code()) == 6


@pytest.mark.parametrize("digits", [0, -1, MAX_DIGITS + 1, 100])
def test_lengths_out_of_range_are_refused(digits):
    with pytest.raises(ValueError, match="1 to 12 digits"):
        make_code(digits)


def test_the_statistic_catches_a_biased_generator():
    # The tests below would pass anything if chi_square were wrong: a
    # generator that folds 0-15 onto 0-9 (a modulo bias) must fail.
    biased = Counter(str(i % 10) for i in range(16) for _ in range(1_000))
    assert chi_square(biased, "0123456789") > CHI2_999_9_DF
    fair = Counter(str(i) for i in range(10) for _ in range(1_000))
    assert chi_square(fair, "0123456789") == 0


def test_digits_after_the_first_are_uniform():
    codes = [make_code(6) for _ in range(SAMPLES)]
    counts = Counter(digit for code in codes for digit in code[1:])
    assert sum(counts.values()) == 5 * SAMPLES
    assert chi_square(counts, "0123456789") < CHI2_999_9_DF


def test_first_digits_are_uniform_over_one_to_nine():
    counts = Counter(make_code(6)[0] for _ in range(SAMPLES))
    assert set(counts) == set("123456789")
    assert chi_square(counts, "123456789") < CHI2_999_8_DF


def test_many_threads_drawing_at_once_get_valid_distinct_codes():
    threads, per_thread = 16, 2_000
    start = threading.Barrier(threads)
    results: list[list[str]] = [[] for _ in range(threads)]

    def draw(slot: list[str]) -> None:
        start.wait()
        slot.extend(make_code(12) for _ in range(per_thread))

    workers = [threading.Thread(target=draw, args=(r,)) for r in results]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    codes = [code for slot in results for code in slot]
    assert len(codes) == threads * per_thread
    assert all(len(c) == 12 and c.isdigit() and c[0] != "0" for c in codes)
    # 32,000 draws from 9 * 10**11 codes repeat one with odds of about 1 in
    # 1,800; threads sharing state would repeat many.
    assert len(set(codes)) == len(codes)
