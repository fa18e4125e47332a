#!/usr/bin/env python3
"""How often the intent of a transcript is the intent of what was said.

Speaks tests/voice/phrases.txt with espeak-ng, transcribes each recording
with the built hearkend (TranscribeFile, command mode, on a private bus),
and classifies both the phrase and its transcript with an intent model
(hearken-engine classify); prints the agreement and the word error rate.

usage: dbus-run-session -- tests/voice/score-intents.py BUILD_DIR INTENTS.gguf
  (make INTENTS.gguf with: hearken-engine train-intents --data data/intents --out INTENTS.gguf)
"""
import os
import subprocess
import sys
import tempfile
import time


def top_intent(engine, model, text):
    out = subprocess.run([engine, "classify", "-m", model, text or " "],
                         capture_output=True, text=True, check=True).stdout
    return out.split()[0] if out.strip() else ""


def word_errors(ref, hyp):
    ref, hyp = ref.split(), hyp.split()
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, row = row, [i] + [0] * len(hyp)
        for j in range(1, len(hyp) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1]))
    return row[-1], len(ref)


def main():
    build, model = os.path.abspath(sys.argv[1]), sys.argv[2]
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, GSETTINGS_SCHEMA_DIR=os.path.join(build, "data"),
               GSETTINGS_BACKEND="memory", HEARKEN_VOICE_DIR=os.path.join(build, "data", "voice"))
    phrases = [l.strip() for l in open(os.path.join(source, "tests", "voice", "phrases.txt"))
               if l.strip() and not l.startswith("#")]
    engine = os.path.join(build, "service", "cli", "hearken-engine")
    ctl = os.path.join(build, "service", "cli", "hearkenctl")
    daemon = subprocess.Popen([os.path.join(build, "service", "daemon", "hearkend")], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        subprocess.run(["gdbus", "wait", "--session", "--timeout", "30", "org.hearken.Assistant1"],
                       check=True)
        agree = errors = words = 0
        with tempfile.TemporaryDirectory() as tmp:
            for n, phrase in enumerate(phrases):
                wav = os.path.join(tmp, "%d.wav" % n)
                subprocess.run(["espeak-ng", "-v", "en-us", "-w", wav, phrase], check=True)
                text = subprocess.run([ctl, "transcribe", wav], capture_output=True, text=True,
                                      env=env, check=True).stdout.strip()
                e, w = word_errors(phrase, text)
                errors, words = errors + e, words + w
                said, heard = top_intent(engine, model, phrase), top_intent(engine, model, text)
                agree += said == heard
                print("%-40s %-40s %-16s %s" % (phrase, text, said, heard if heard != said else "="))
        print("WER %.1f%%, intent of the transcript = intent of the phrase: %d/%d (%.1f%%)"
              % (100.0 * errors / words, agree, len(phrases), 100.0 * agree / len(phrases)))
    finally:
        daemon.terminate()
        daemon.wait()


if __name__ == "__main__":
    main()
