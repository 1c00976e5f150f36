#!/usr/bin/env bash
# Makes the media test fixtures with the FFmpeg CLI: make_fixtures.sh DIR.
# Every picture's brightness follows time (luma = 20 x seconds, capped), so a
# test can tell from a grid cell which moment it shows. Runs again only when
# this script changed (DIR/.stamp holds its checksum).
set -euo pipefail
dir=$1
mkdir -p "$dir"
stamp=$(sha256sum "$0" | cut -d' ' -f1)
[ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] && exit 0
cd "$dir"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
ramp() {  # ramp SIZE SECONDS RATE: a picture whose luma is 20 x t
  echo "color=c=black:s=$1:r=$3:d=$2,geq=lum='min(235,16+20*T)':cb=128:cr=128"
}
x264_gop() { echo "-c:v libx264 -preset veryfast -pix_fmt yuv420p -g $1 -keyint_min $1 -sc_threshold 0 -bf 2"; }

# 10 s landscape 640x360 at 30 fps, a keyframe every 0.5 s, AAC audio.
ff -f lavfi -i "$(ramp 640x360 10 30)" -f lavfi -i "sine=frequency=440:duration=10" \
   $(x264_gop 15) -c:a aac -b:a 64k -shortest landscape.mp4
# The same streams in Matroska (the non-MP4 path, with a stream-info scan).
ff -i landscape.mp4 -c copy landscape.mkv
# Portrait as phones record it: the picture stored landscape (320x180) with a
# display matrix turning it 90 degrees clockwise. Upright it is 180x320 with
# a bright top half and a dark bottom half.
# (FFmpeg 5.1's CLI cannot set the matrix, so the track header is patched.)
# portrait_rotated_ccw.mp4 is the other way round: stored turned clockwise,
# shown turned 90 degrees counter-clockwise (270 clockwise).
set_matrix() {  # set_matrix FILE B C: the 3x3 matrix a=0 b u=0 / c d=0 v=0 / x=0 y=0 w=1
  local tkhd
  tkhd=$(grep -obUa tkhd "$1" | head -1 | cut -d: -f1)
  # The matrix sits 44 bytes after the box name.
  printf '\x00\x00\x00\x00'"$2"'\x00\x00\x00\x00'"$3"'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00' |
    dd of="$1" bs=1 seek=$((tkhd + 44)) conv=notrunc status=none
}
portrait="color=c=black:s=180x320:r=30:d=4,geq=lum='if(lt(Y,160),235,16)':cb=128:cr=128"
ff -f lavfi -i "$portrait" -vf "transpose=cclock" $(x264_gop 15) portrait_rotated.mp4
set_matrix portrait_rotated.mp4 '\x00\x01\x00\x00' '\xff\xff\x00\x00'
ff -f lavfi -i "$portrait" -vf "transpose=clock" $(x264_gop 15) portrait_rotated_ccw.mp4
set_matrix portrait_rotated_ccw.mp4 '\xff\xff\x00\x00' '\x00\x01\x00\x00'
# No audio at all.
ff -f lavfi -i "$(ramp 640x360 4 30)" $(x264_gop 15) no_audio.mp4
# One second with a single keyframe: too few keyframes, short enough to decode whole.
ff -f lavfi -i "$(ramp 320x180 1 30)" $(x264_gop 300) very_short.mp4
# 60 s with one keyframe: too few keyframes and too long to decode whole.
ff -f lavfi -i "$(ramp 160x90 60 10)" $(x264_gop 1000) sparse_keyframes.mp4
# Variable frame rate: 2 s at 30 fps, then 4 s at 5 fps.
ff -f lavfi -i "$(ramp 320x180 6 30)" -vf "select='lt(t,2)+not(mod(n,6))'" -fps_mode vfr $(x264_gop 10) vfr.mp4
# WebM written live, as browsers' MediaRecorder does: no duration, no index.
ff -f lavfi -i "$(ramp 320x180 6 30)" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 15 -f webm -live 1 live.webm
# HEVC, tagged as Apple devices do.
ff -f lavfi -i "$(ramp 640x360 4 30)" -c:v libx265 -preset ultrafast -x265-params "keyint=15:min-keyint=15:log-level=error" \
   -tag:v hvc1 -pix_fmt yuv420p hevc.mp4
# A busy picture (moving pattern under fresh grain every frame) at a high
# rate: costly to encode, so a rendition's size target really constrains it.
ff -f lavfi -i "testsrc2=s=320x180:r=30:d=4,noise=alls=16:allf=t" -f lavfi -i "sine=frequency=440:duration=4" \
   -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac -b:a 64k -shortest busy.mp4
# Wider than any accepted video (8K is 7680).
ff -f lavfi -i "color=c=gray:s=8192x64:r=1:d=1" -c:v libx264 -preset ultrafast -pix_fmt yuv420p huge_dimensions.mp4
# AVI: a real video in a container the service does not take.
ff -f lavfi -i "$(ramp 320x180 2 30)" -c:v mpeg4 unsupported.avi
# Cut short two ways: index at the end (the header is lost) and index first
# (the header promises frames that are not there).
head -c $(( $(stat -c %s landscape.mp4) / 2 )) landscape.mp4 > truncated.mp4
ff -i landscape.mp4 -c copy -movflags +faststart landscape_faststart.mp4
head -c $(( $(stat -c %s landscape_faststart.mp4) / 2 )) landscape_faststart.mp4 > truncated_faststart.mp4
rm landscape_faststart.mp4
# Garbage where the header's boxes are.
cp landscape.mp4 corrupt_header.mp4
printf 'garbage!%.0s' {1..512} | dd of=corrupt_header.mp4 bs=1 seek=16 conv=notrunc status=none
# Not video at all, named as one; and nothing at all.
printf 'This is a text file, not a video.\n%.0s' {1..50} > text.mp4
: > empty.mp4
echo "$stamp" > .stamp
