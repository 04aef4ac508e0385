#!/usr/bin/python3
"""Writes test/metrics/fixtures.json: corpus BLEU and ROUGE-1/2/L cases for
src/metrics, computed by established code where it exists here.

BLEU: nltk (Debian's python3-nltk, `apt-get install python3-nltk`)
corpus_bleu with SmoothingFunction().method3 (NIST geometric smoothing, which
is sacreBLEU's default 'exp'), on segments tokenised by mteval-v13a rules
written here in Python from sacreBLEU's definition (nltk has no 13a
tokenizer). One deliberate difference: where the hypotheses hold no n-grams of
some order at all, sacreBLEU stops and scores 0 while nltk smooths a 0/1
precision, and its corpus_bleu counts a segment shorter than n as one n-gram
of order n. So each case is scored by sacreBLEU's aggregation of nltk's pieces
(modified_precision, brevity_penalty, method3), and where every hypothesis has
4 tokens or more the script asserts that nltk's corpus_bleu gives the same.

ROUGE: no rouge-score package is installable here (neither Debian nor npm has
it), so ROUGE-1/2/L F1 is computed by a plain-Python implementation of
rouge-score's documented definition (tokenise: lower-case, non [a-z0-9] runs
to spaces, no stemming; clipped n-gram overlap; LCS), independent of the
TypeScript code.

Run: /usr/bin/python3 scripts/make-metric-fixtures.py
"""
import gzip
import math
import json
import random
import re
from collections import Counter

from fractions import Fraction

from nltk.translate.bleu_score import SmoothingFunction, brevity_penalty, corpus_bleu, modified_precision
from nltk.util import ngrams

PY_WS = None  # str.split() with no argument: Python's whitespace


def tokenize_13a(line):
    line = line.replace('<skipped>', '').replace('-\n', '').replace('\n', ' ')
    if '&' in line:
        line = line.replace('&quot;', '"').replace('&amp;', '&').replace('&lt;', '<').replace('&gt;', '>')
    line = ' ' + line + ' '
    line = re.sub(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])', r' \1 ', line)
    line = re.sub(r'([^0-9])([\.,])', r'\1 \2 ', line)
    line = re.sub(r'([\.,])([^0-9])', r' \1 \2', line)
    line = re.sub(r'([0-9])(-)', r'\1 \2 ', line)
    return line.split(PY_WS)


def sacrebleu_from_nltk_parts(hyp_tokens, ref_tokens):
    """sacreBLEU's corpus aggregation from nltk's pieces: clipped matches from
    modified_precision, true n-gram totals (nltk's corpus_bleu counts a segment
    shorter than n as 1), nltk's brevity_penalty and method3 smoothing."""
    correct, total = [0] * 4, [0] * 4
    for h, r in zip(hyp_tokens, ref_tokens):
        for n in range(1, 5):
            correct[n - 1] += modified_precision([r], h, n).numerator
            total[n - 1] += len(list(ngrams(h, n)))
    if not any(correct) or any(t == 0 for t in total):
        return 0.0  # sacreBLEU: no match at all, or an order without hypothesis n-grams
    p_n = [Fraction(c, t, _normalize=False) for c, t in zip(correct, total)]
    p_n = SmoothingFunction().method3(p_n)
    bp = brevity_penalty(sum(len(r) for r in ref_tokens), sum(len(h) for h in hyp_tokens))
    return 100 * bp * math.exp(math.fsum(0.25 * math.log(p) for p in p_n))


def bleu_case(name, hyps, refs):
    hyp_tokens = [tokenize_13a(h.rstrip()) for h in hyps]
    ref_tokens = [tokenize_13a(r.rstrip()) for r in refs]
    score = sacrebleu_from_nltk_parts(hyp_tokens, ref_tokens)
    case = {'name': name, 'hypotheses': hyps, 'references': refs, 'bleu': score,
            'hypothesisTokens': [' '.join(h) for h in hyp_tokens]}
    if all(len(h) >= 4 for h in hyp_tokens):
        # Every segment has 4-grams: nltk's own corpus_bleu must agree exactly.
        direct = 100 * corpus_bleu([[r] for r in ref_tokens], hyp_tokens, smoothing_function=SmoothingFunction().method3)
        assert abs(direct - score) < 1e-9, (name, direct, score)
        case['nltkCorpusBleu'] = direct
    else:
        case['note'] = 'a hypothesis shorter than 4 tokens: nltk corpus_bleu counts it as one n-gram per order, sacreBLEU as none; sacreBLEU aggregation from nltk parts'
    return case


def rouge_tokens(text):
    text = re.sub(r'[^a-z0-9]+', ' ', text.lower())
    return [t for t in re.split(r'\s+', text) if re.match(r'^[a-z0-9]+$', t)]


def f1(overlap, pred_count, target_count):
    p = overlap / max(pred_count, 1)
    r = overlap / max(target_count, 1)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def rouge_n(t, p, n):
    tc = Counter(tuple(t[i:i + n]) for i in range(len(t) - n + 1))
    pc = Counter(tuple(p[i:i + n]) for i in range(len(p) - n + 1))
    overlap = sum(min(c, pc[g]) for g, c in tc.items())
    return f1(overlap, sum(pc.values()), sum(tc.values()))


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


def rouge_case(name, target, prediction):
    t, p = rouge_tokens(target), rouge_tokens(prediction)
    rl = 0.0 if not t or not p else f1(lcs(t, p), len(p), len(t))
    return {'name': name, 'target': target, 'prediction': prediction,
            'rouge1': rouge_n(t, p, 1), 'rouge2': rouge_n(t, p, 2), 'rougeL': rl}


def perturb(rng, sentence):
    words = sentence.split()
    kind = rng.randrange(5)
    if kind == 0 and len(words) > 2:
        del words[rng.randrange(len(words))]
    elif kind == 1 and len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == 2:
        words = words[:max(1, len(words) * 2 // 3)]
    elif kind == 3:
        words.insert(rng.randrange(len(words) + 1), rng.choice(['the', 'a', 'de', 'le', ',', '.', '(x)']))
    return ' '.join(words)


def read_pairs(path, n):
    with gzip.open(path, 'rt', encoding='utf-8') as f:
        return [line.rstrip('\n').split('\t') for _, line in zip(range(n), f)]


def main():
    rng = random.Random(15)
    bleu = []
    edge = [
        ('identical', ['The cat sat on the mat.'], ['The cat sat on the mat.']),
        ('empty hypothesis', [''], ['the cat sat on the mat']),
        ('empty hypotheses and a non-empty one', ['', 'the cat sat on the mat'], ['a dog', 'the cat sat on a mat']),
        ('no matches', ['completely different words here now'], ['the cat sat on the mat']),
        ('only unigram matches', ['mat the on sat cat'], ['the cat sat on the mat']),
        ('short hypothesis, 3 tokens', ['the cat sat'], ['the cat sat on the mat']),
        ('short hypotheses, one long enough', ['the cat', 'a dog ran in the park today'], ['the cat sat', 'a dog ran in the park']),
        ('longer than reference', ['the the the cat sat on the mat today and yesterday'], ['the cat sat on the mat']),
        ('punctuation and numbers', ['Version 1,000.5 costs $3-4 (approx.), see e.g. foo/bar: x;y!'],
         ['Version 1,000.5 costs $3 - 4 (approx.), see e.g. foo/bar : x; y !']),
        ('html entities and dashes', ['a &amp; b &lt;c&gt; &quot;d&quot; self-\ncontained'], ['a & b <c> "d" selfcontained']),
        ('whitespace runs and tabs', ['  the   cat\tsat \n on  the mat  '], ['the cat sat on the mat']),
        ('unicode', ['« Jeu de stratégie » — 0 A.D. 日本語 😀'], ['« jeu de stratégie » — 0 A.D. 日本語 😀']),
        ('case sensitive', ['THE CAT SAT ON THE MAT'], ['the cat sat on the mat']),
        ('brevity penalty', ['the cat sat on the'], ['the cat sat on the mat with a hat today']),
        ('repeated n-grams clipped', ['the the the the the the'], ['the cat the dog']),
    ]
    for name, h, r in edge:
        bleu.append(bleu_case(name, h, r))
    fr = read_pairs('data/ddtp/synopses-en-fr.test.tsv.gz', 400)
    for k in range(20):
        chunk = fr[k * 20:(k + 1) * 20]
        refs = [p[1] for p in chunk]
        hyps = [perturb(rng, r) if rng.random() < 0.8 else rng.choice(fr)[1] for r in refs]
        bleu.append(bleu_case(f'ddtp synopses en-fr test, perturbed, batch {k}', hyps, refs))
    copy = fr[:200]
    bleu.append(bleu_case('copy the source (English as French)', [p[0] for p in copy], [p[1] for p in copy]))

    rouge = []
    redge = [
        ('identical', 'The cat sat on the mat.', 'The cat sat on the mat.'),
        ('empty prediction', 'the cat sat', ''),
        ('empty target', '', 'the cat sat'),
        ('both empty', '', ''),
        ('no overlap', 'the cat sat', 'dogs run fast'),
        ('one word', 'cat', 'cat'),
        ('one word vs two', 'cat', 'the cat'),
        ('accents become separators', 'Jeu de stratégie café', 'jeu de strat gie caf'),
        ('case and punctuation', 'Hello, World! (2024)', 'hello world 2024'),
        ('repeated words', 'the the the cat', 'the cat the cat'),
        ('lcs not contiguous', 'a b c d e f', 'a x c y e z'),
    ]
    for name, t, p in redge:
        rouge.append(rouge_case(name, t, p))
    summ = read_pairs('data/ddtp/summaries-en.test.tsv.gz', 60)
    for i, (desc, syn) in enumerate(summ):
        words = desc.split()
        first = re.split(r'(?<=[.!?])\s', desc, maxsplit=1)[0]
        rouge.append(rouge_case(f'ddtp summaries test {i}: first sentence', syn, first))
        rouge.append(rouge_case(f'ddtp summaries test {i}: first 10 words', syn, ' '.join(words[:10])))
        rouge.append(rouge_case(f'ddtp summaries test {i}: perturbed synopsis', syn, perturb(rng, syn)))

    out = {
        'generator': 'scripts/make-metric-fixtures.py',
        'bleu_reference': 'nltk corpus_bleu, SmoothingFunction().method3, on mteval-v13a tokens (sacreBLEU defaults)',
        'rouge_reference': 'plain-Python rouge-score definition (no stemming), F1',
        'bleu': bleu,
        'rouge': rouge,
    }
    with open('test/metrics/fixtures.json', 'w', encoding='utf-8') as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write('\n')
    print(f'make-metric-fixtures: {len(bleu)} BLEU cases, {len(rouge)} ROUGE cases')


main()
