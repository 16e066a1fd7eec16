#!/usr/bin/env bash
# Regenerates assets/hold_music_1.mp3: an original, calm 32-second loop (eight bars of soft
# chords, a bass note and a plucked melody), synthesized with sox and encoded with lame.
#
#   apt-get install -y sox lame     # Debian/Ubuntu packages
#   scripts/make-hold-music.sh [output.mp3]
#
# Every bar fades in and out to silence, so the loop point (end -> start) is silence to silence:
# no click when <Play loop="99"> repeats it. Mono, 22.05 kHz, 64 kbit/s: about 260 KB.
set -euo pipefail

out="${1:-$(cd "$(dirname "$0")/.." && pwd)/assets/hold_music_1.mp3}"
for tool in sox lame; do
  command -v "$tool" >/dev/null || { echo "make-hold-music: $tool is missing (apt-get install -y sox lame)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rate=22050
bar=4 # seconds per chord

# Eight bars: chord tones (Hz) for the pad, a bass note, and four melody notes per bar.
# Cmaj7 - Am7 - Dm7 - G7 - Em7 - Am7 - Fmaj7 - G(sus)
chords=(
  "261.63 329.63 392.00 493.88|130.81|523.25 493.88 392.00 329.63"
  "220.00 261.63 329.63 392.00|110.00|440.00 392.00 329.63 392.00"
  "293.66 349.23 440.00 523.25|146.83|440.00 523.25 587.33 523.25"
  "196.00 246.94 293.66 349.23|98.00|493.88 440.00 392.00 293.66"
  "329.63 392.00 493.88 587.33|164.81|493.88 587.33 659.25 587.33"
  "220.00 261.63 329.63 392.00|110.00|523.25 440.00 392.00 440.00"
  "349.23 440.00 523.25 659.25|87.31|523.25 440.00 349.23 440.00"
  "196.00 261.63 293.66 392.00|98.00|392.00 293.66 261.63 293.66"
)

bars=()
for i in "${!chords[@]}"; do
  IFS='|' read -r pad bass melody <<<"${chords[$i]}"
  read -r -a tones <<<"$pad"
  read -r -a notes <<<"$melody"
  # Pad: four sine tones, one channel each, mixed down; slow attack and release.
  sox -V1 -n -r "$rate" -c 4 -t wav - synth "$bar" sine "${tones[0]}" sine "${tones[1]}" sine "${tones[2]}" sine "${tones[3]}" |
    sox -V1 -t wav - -c 1 "$work/pad$i.wav" fade q 0.6 "$bar" 0.9 vol 0.22
  # Bass: a triangle an octave down, softer.
  sox -n -r "$rate" -c 1 "$work/bass$i.wav" synth "$bar" triangle "$bass" fade q 0.4 "$bar" 0.8 vol 0.18
  # Melody: four plucked notes of one second each.
  parts=()
  for j in "${!notes[@]}"; do
    sox -n -r "$rate" -c 1 "$work/m$i-$j.wav" synth 1 pluck "${notes[$j]}" fade q 0.01 1 0.5 vol 0.25
    parts+=("$work/m$i-$j.wav")
  done
  sox "${parts[@]}" "$work/melody$i.wav"
  sox -m "$work/pad$i.wav" "$work/bass$i.wav" "$work/melody$i.wav" "$work/bar$i.wav"
  bars+=("$work/bar$i.wav")
done

# Join, take the edges to exact silence, normalise gently, add a touch of reverb (trimmed back to
# the exact length so the tail does not spill past the loop point).
sox "${bars[@]}" "$work/joined.wav"
length=$((bar * ${#chords[@]}))
sox "$work/joined.wav" "$work/loop.wav" reverb 30 50 60 0 trim 0 "$length" fade t 0.05 "$length" 0.3 gain -n -3
lame --quiet -m m -b 64 --resample 22.05 "$work/loop.wav" "$out"
echo "make-hold-music: wrote $out ($(wc -c <"$out") bytes, ${length} s)"
