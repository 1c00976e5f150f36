#!/usr/bin/env bash
# The keyframe grid against the FFmpeg CLI, on this machine:
#   - a 60 s 1080p H.264 clip and a 60 s 4K one (made once with the FFmpeg CLI,
#     a keyframe every 2 s as phones record), cached in build/bench-media;
#   - probe + 16-frame grid with our code (bench_media) on one decoder thread
#     and on one per core;
#   - the same job by the FFmpeg CLI two ways: the best invocation (decode key
#     frames only, pick 16, tile) and the naive one (decode everything, fps, tile);
#   - the rendition (src/media/rendition.hpp) of the 1080p clip to a 20 MiB
#     H.264/AAC 720p MP4 on one encoder thread, its time and output size, and
#     the FFmpeg CLI doing the same encode as a baseline.
#
#   bench/media.sh            REPEAT=5 by default (RENDITION_REPEAT=1: each run takes tens of seconds)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$HUNTAZE_ROOT"
repeat=${REPEAT:-5}

"$HUNTAZE_ROOT/scripts/bootstrap"
build release
ninja -C build/release bench_media >/dev/null

dir=build/bench-media
mkdir -p "$dir"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
if [ ! -f "$dir/clip_1080p.mp4" ]; then
  log "making a 60 s 1080p clip"
  ff -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=60" -f lavfi -i "sine=frequency=300:duration=60" \
     -c:v libx264 -preset veryfast -g 60 -pix_fmt yuv420p -b:v 6M -c:a aac "$dir/clip_1080p.tmp.mp4"
  mv "$dir/clip_1080p.tmp.mp4" "$dir/clip_1080p.mp4"
fi
if [ ! -f "$dir/clip_4k.mp4" ]; then
  log "making a 60 s 4K clip"
  ff -f lavfi -i "testsrc2=size=3840x2160:rate=30:duration=60" \
     -c:v libx264 -preset ultrafast -g 60 -pix_fmt yuv420p -b:v 20M "$dir/clip_4k.tmp.mp4"
  mv "$dir/clip_4k.tmp.mp4" "$dir/clip_4k.mp4"
fi

cores=$(nproc)
ours() {  # ours FILE WORKERS -> "median_s best_s rss_mb method"
  local out
  out=$(build/release/bench/bench_media --file "$1" --workers "$2" --repeat "$repeat" --out "$dir/ours.jpg")
  awk '/^grid_ms_median/ {m=$2} /^grid_ms_best/ {b=$2} /^probe_ms_median/ {p=$2} /^peak_rss_mb/ {r=$2} /^method/ {k=$2}
       END {printf "%.3f %.3f %.1f %s %.2f\n", (m+p)/1000, b/1000, r, k, p}' <<<"$out"
}
# best_of N CMD...: seconds of the fastest of N runs.
best_of() {
  local runs=$1 best="" t0 t1
  shift
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N); "$@"; t1=$(date +%s%N)
    best=$(awk -v b="$best" -v d="$(( t1 - t0 ))" 'BEGIN {d /= 1e9; if (b == "" || d < b) print d; else print b}')
  done
  printf '%.3f\n' "$best"
}
cli_best() {  # key frames only, one every duration/16 s, tiled
  ff -skip_frame nokey -i "$1" -vf "select='isnan(prev_selected_t)+gte(t-prev_selected_t\,3.75)',scale=330:186,tile=4x4" \
     -frames:v 1 -fps_mode vfr -an "$dir/cli_best.jpg"
}
cli_naive() {  # decode every frame, keep 16 evenly, tiled
  ff -i "$1" -vf "fps=16/60,scale=330:186,tile=4x4" -frames:v 1 -an "$dir/cli_naive.jpg"
}

declare -A figures
for clip in 1080p 4k; do
  file="$dir/clip_$clip.mp4"
  read -r one one_best rss method probe <<<"$(ours "$file" 1)"
  read -r all all_best rss_all _ _ <<<"$(ours "$file" "$cores")"
  best=$(best_of "$repeat" cli_best "$file")
  log "$clip: ours $one s on 1 thread (best $one_best, probe $probe ms, $method, $rss MB), $all s on $cores; CLI best $best s"
  figures[$clip,one]=$one; figures[$clip,all]=$all; figures[$clip,cli_best]=$best
  figures[$clip,rss]=$(awk -v a="$rss" -v b="$rss_all" 'BEGIN {print (a > b ? a : b)}')
done
naive=$(best_of 1 cli_naive "$dir/clip_1080p.mp4")
log "1080p: CLI naive (full decode) $naive s"

# The rendition: 1080p -> 720p H.264 veryfast + AAC at a 20 MiB target.
rendition_repeat=${RENDITION_REPEAT:-1}
out=$(build/release/bench/bench_media --file "$dir/clip_1080p.mp4" --rendition "$dir/rendition.mp4" --target-mib 20 \
        --threads 1 --repeat "$rendition_repeat")
read -r r_median r_best r_bytes r_rss r_vrate <<<"$(awk '/^rendition_ms_median/ {m=$2} /^rendition_ms_best/ {b=$2}
  /^rendition_bytes/ {n=$2} /^peak_rss_mb/ {r=$2} /^video_bit_rate/ {v=$2}
  END {printf "%.2f %.2f %d %.1f %d\n", m/1000, b/1000, n, r, v}' <<<"$out")"
log "1080p rendition: $r_median s (best $r_best), $r_bytes bytes of a 20 MiB target, video at $r_vrate b/s, $r_rss MB"
cli_rendition() {  # the same encode by the CLI, on one thread as ours
  ff -threads 1 -i "$1" -vf "scale=1280:-2" -c:v libx264 -preset veryfast -threads 1 -b:v "$r_vrate" \
     -maxrate $(( r_vrate * 2 )) -bufsize $(( r_vrate * 4 )) -pix_fmt yuv420p -c:a aac -b:a 48k -ar 48000 \
     -movflags +faststart "$dir/cli_rendition.mp4"
}
cli_r=$(best_of 1 cli_rendition "$dir/clip_1080p.mp4")
log "1080p rendition by the CLI: $cli_r s, $(stat -c %s "$dir/cli_rendition.mp4") bytes"

speedup() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
echo "BENCH media_grid_1080p_1thread ${figures[1080p,one]} s"
echo "BENCH media_grid_1080p_${cores}threads ${figures[1080p,all]} s"
echo "BENCH media_grid_4k_1thread ${figures[4k,one]} s"
echo "BENCH media_grid_4k_${cores}threads ${figures[4k,all]} s"
echo "BENCH media_cli_best_1080p ${figures[1080p,cli_best]} s"
echo "BENCH media_cli_best_4k ${figures[4k,cli_best]} s"
echo "BENCH media_cli_naive_1080p $naive s"
echo "BENCH media_speedup_vs_naive_1080p $(speedup "$naive" "${figures[1080p,one]}") x"
echo "BENCH media_speedup_vs_cli_best_1080p $(speedup "${figures[1080p,cli_best]}" "${figures[1080p,one]}") x"
echo "BENCH media_peak_rss_1080p ${figures[1080p,rss]} MB"
echo "BENCH media_peak_rss_4k ${figures[4k,rss]} MB"
echo "BENCH media_rendition_1080p_20mib ${r_median} s"
echo "BENCH media_rendition_1080p_20mib_bytes ${r_bytes} bytes"
echo "BENCH media_rendition_peak_rss ${r_rss} MB"
echo "BENCH media_cli_rendition_1080p_20mib ${cli_r} s"
