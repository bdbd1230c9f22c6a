#!/bin/sh
# The README's real-text training curve from the current code: the built-in corpus, a
# SentencePiece tokenizer of 8192 pieces, its shards, and configs/real-text.toml's run, all in DIR
# (default studies/real-text). Prints the corpus statistics with the unigram entropy that the
# model's loss is read against, then the validation loss by step. Rerunning resumes the training;
# delete DIR to start over.
# Usage: scripts/real-text.sh [DIR]
set -eu
cd "$(dirname "$0")/.."
dir=${1:-studies/real-text}
scripts/install-deps.sh
scripts/build.sh emergence
em=build/emergence
mkdir -p "$dir"
# Each stage writes its last file atomically, so a file present means the stage is complete.
[ -f "$dir/corpus/manifest.json" ] || $em corpus build --out "$dir/corpus"
[ -f "$dir/tokenizer.model" ] ||
  $em tokenizer train --corpus "$dir/corpus" --vocab 8192 --out "$dir/tokenizer.model"
[ -f "$dir/shards/manifest.json" ] ||
  $em tokenize --corpus "$dir/corpus" --tokenizer "$dir/tokenizer.model" --out "$dir/shards"
$em corpus stats --corpus "$dir/corpus" --shards "$dir/shards" --top 5
cp configs/real-text.toml "$dir/run.toml"
$em train --config "$dir/run.toml" --resume
echo "validation loss by step ($dir/run/metrics.jsonl):"
sed -n 's/.*"step":\([0-9]*\),.*"val_loss":\([0-9.]*\).*/\1 \2/p' "$dir/run/metrics.jsonl" |
  awk '{ printf "  step %5d  %.3f\n", $1, $2 }'
