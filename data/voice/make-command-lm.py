#!/usr/bin/env python3
"""Build the command-mode language model of Hearken's speech recogniser.

Reads command sentences (plain text, one a line, or the intent dataset's
label<TAB>text lines), writes an ARPA trigram model with interpolated
Kneser-Ney smoothing and a pronunciation dictionary holding only the words
of the model, taken from the en-us dictionary.  A sentence with a word the
dictionary lacks is left out (and counted on stderr): the recogniser falls
back to dictation for such words.

usage: make-command-lm.py --dict cmudict-en-us.dict --lm out.lm
                          --out-dict out.dict SENTENCES...
"""

import argparse
import collections
import math
import os
import re
import sys

ORDER = 3

ONES = ("zero one two three four five six seven eight nine ten eleven twelve "
        "thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n):
    """Words for 0..999, as people say them."""
    if n < 20:
        return [ONES[n]]
    if n < 100:
        return [TENS[n // 10]] + ([ONES[n % 10]] if n % 10 else [])
    rest = number_words(n % 100) if n % 100 else []
    return [ONES[n // 100], "hundred"] + rest


def normalise(text):
    """Lower case words as the recogniser spells them: numbers as words,
    punctuation gone, apostrophes of contractions kept."""
    words = []
    for token in re.findall(r"[a-z']+|\d+", text.lower().replace("%", " percent ")):
        if token.isdigit():
            words += number_words(int(token)) if int(token) < 1000 else [token]
        else:
            token = token.strip("'")
            if token:
                words.append(token)
    return words


def read_sentences(paths):
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                # label<TAB>text: the text is the last column
                yield line.split("\t")[-1]


def read_dictionary(path, wanted):
    """word -> pronunciations (alternates word(2), word(3) ... kept)."""
    pron = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            word = re.sub(r"\(\d+\)$", "", parts[0])
            if word in wanted:
                pron[word].append(" ".join(parts[1:]))
    return pron


def discount(counts):
    """Kneser-Ney's D = n1 / (n1 + 2 n2), for the counts of one order."""
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    if n1 == 0:
        return 0.5
    return min(max(n1 / (n1 + 2.0 * n2), 0.1), 0.9)


def kneser_ney(sentences):
    """Interpolated Kneser-Ney: returns, per order, ngram -> (log10 p, log10 bow)."""
    raw = [collections.Counter() for _ in range(ORDER + 1)]
    for words in sentences:
        padded = ["<s>"] + words + ["</s>"]
        for n in range(1, ORDER + 1):
            for i in range(len(padded) - n + 1):
                raw[n][tuple(padded[i:i + n])] += 1

    # Lower orders count the contexts a word follows (continuation counts),
    # except n-grams that start a sentence: nothing precedes <s>.
    counts = [None] * (ORDER + 1)
    counts[ORDER] = raw[ORDER]
    for n in range(ORDER - 1, 0, -1):
        cont = collections.Counter()
        for gram in raw[n + 1]:
            cont[gram[1:]] += 1
        for gram, c in raw[n].items():
            if gram[0] == "<s>":
                cont[gram] = c
        counts[n] = cont

    vocab = sorted({g[0] for g in counts[1]} | {"<s>"})
    prob = [dict() for _ in range(ORDER + 1)]

    # unigrams: continuation distribution, a share given to the uniform
    total = sum(c for g, c in counts[1].items() if g != ("<s>",))
    d1 = discount(counts[1])
    types = sum(1 for g in counts[1] if g != ("<s>",))
    uniform = 1.0 / (len(vocab) - 1)
    for word in vocab:
        if word == "<s>":
            prob[1][(word,)] = 0.0
            continue
        c = counts[1].get((word,), 0)
        prob[1][(word,)] = max(c - d1, 0) / total + d1 * types / total * uniform

    gamma = [dict() for _ in range(ORDER + 1)]
    for n in range(2, ORDER + 1):
        d = discount(counts[n])
        context_total = collections.Counter()
        context_types = collections.Counter()
        for gram, c in counts[n].items():
            context_total[gram[:-1]] += c
            context_types[gram[:-1]] += 1
        for ctx in context_total:
            gamma[n - 1][ctx] = d * context_types[ctx] / context_total[ctx]
        for gram, c in counts[n].items():
            lower = lower_prob(prob, gamma, gram[1:])
            prob[n][gram] = (max(c - d, 0) / context_total[gram[:-1]]
                             + gamma[n - 1][gram[:-1]] * lower)
    return prob, gamma


def lower_prob(prob, gamma, gram):
    """The interpolated probability of gram, backing off where it is unseen."""
    n = len(gram)
    if gram in prob[n]:
        return prob[n][gram]
    return gamma[n - 1].get(gram[:-1], 1.0) * lower_prob(prob, gamma, gram[1:])


def log10(p):
    return -99.0 if p <= 0 else math.log10(p)


def write_arpa(path, prob, gamma):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for n in range(1, ORDER + 1):
            f.write("ngram %d=%d\n" % (n, len(prob[n])))
        for n in range(1, ORDER + 1):
            f.write("\n\\%d-grams:\n" % n)
            for gram in sorted(prob[n]):
                line = "%.4f\t%s" % (log10(prob[n][gram]), " ".join(gram))
                if n < ORDER and gram != ("</s>",):
                    line += "\t%.4f" % log10(gamma[n].get(gram, 1.0))
                f.write(line + "\n")
        f.write("\n\\end\\\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dict", required=True, help="the en-us pronunciation dictionary")
    parser.add_argument("--lm", required=True, help="the ARPA model to write")
    parser.add_argument("--out-dict", required=True, help="the dictionary to write")
    parser.add_argument("sentences", nargs="+", help="text files; missing ones are skipped")
    args = parser.parse_args()

    sentences = [normalise(s) for s in read_sentences(args.sentences)]
    sentences = [s for s in sentences if s]
    words = {w for s in sentences for w in s}
    pron = read_dictionary(args.dict, words)
    kept = [s for s in sentences if all(w in pron for w in s)]
    left_out = len(sentences) - len(kept)
    if not kept:
        sys.exit("make-command-lm: no sentence whose words are all in %s" % args.dict)
    if left_out:
        print("make-command-lm: left out %d of %d sentences with words outside the dictionary"
              % (left_out, len(sentences)), file=sys.stderr)

    # each distinct sentence once: a dataset repeats its templates
    unique = [list(s) for s in sorted({tuple(s) for s in kept})]
    prob, gamma = kneser_ney(unique)
    write_arpa(args.lm, prob, gamma)
    with open(args.out_dict, "w", encoding="utf-8") as f:
        for word in sorted({w for s in unique for w in s}):
            for i, p in enumerate(pron[word]):
                f.write("%s %s\n" % (word if i == 0 else "%s(%d)" % (word, i + 1), p))


if __name__ == "__main__":
    main()
