#!/bin/sh
# Regenerates the expected outputs from real samtools 1.16.1 (Debian package samtools).
# cases.tsv: id, prep (raw: the SAM file as is; bam: X.bam from `samtools view -b`; sorted: after `samtools sort -o X.sorted.bam X.sam`
# and `samtools index`), input, exit status, then the samtools arguments with @IN for the input.
set -e
set -f  # no globbing: "*" is a region
cd "$(dirname "$0")"
samtools --version | head -1 | grep -q '^samtools 1.16.1$' || { echo "needs samtools 1.16.1" >&2; exit 1; }
rm -rf expected && mkdir expected
: > cases.tsv
case_() {
  id=$1 prep=$2 in=$3; shift 3
  case $prep in sorted) f=${in%.sam}.sorted.bam ;; bam) f=${in%.sam}.bam ;; *) f=$in ;; esac
  args=$(printf '%s\n' "$@" | sed "s|^@IN\$|$f|" | tr '\n' '\t' | sed 's/\t$//')
  set +e
  # shellcheck disable=SC2046
  (IFS='	'; samtools $args) > "expected/$id.out" 2> "expected/$id.err"
  rc=$?
  set -e
  printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$prep" "$in" "$rc" "$(printf '%s\t' "$@" | sed 's/\t$//')" >> cases.tsv
}
for s in toy ties; do
  samtools sort -o $s.sorted.bam $s.sam && samtools index $s.sorted.bam
  samtools view --no-PG -b -o $s.bam $s.sam   # kept: BAM input fixtures (prep "bam")
done
for s in toy ties empty; do
  case_ $s-flagstat raw $s.sam flagstat @IN
  case_ $s-flagstat-tsv raw $s.sam flagstat -O tsv @IN
  case_ $s-flagstat-json raw $s.sam flagstat -O json @IN
done
n=0
for filt in "" "-f 4" "-F 4" "-f 1024" "-F 1024" "-f 256" "-F 0x900" "-F 0x904" "-f 2" "-f 1" "-f 0x40" "-f 0x41" \
            "-q 30" "-q 1" "-q 0" "-q 30 -F 4" "-f 512" "-F 0xF04" "-G 4" "-G 0x41" "-f PAIRED,READ1" "-F UNMAP,DUP"; do
  n=$((n+1))
  # shellcheck disable=SC2086
  case_ toy-count-$n raw toy.sam view -c $filt @IN
  # shellcheck disable=SC2086
  case_ ties-count-$n raw ties.sam view -c $filt @IN
done
for s in toy ties; do
  case_ $s-view raw $s.sam view @IN
  case_ $s-view-h raw $s.sam view -h @IN
  case_ $s-view-H raw $s.sam view -H @IN
  case_ $s-view-h-nopg raw $s.sam view -h --no-PG @IN
  case_ $s-view-filter raw $s.sam view -F 0x904 -q 10 @IN
  case_ $s-sort raw $s.sam sort -O sam @IN
  case_ $s-sort-n raw $s.sam sort -n -O sam @IN
  case_ $s-sort-nopg raw $s.sam sort --no-PG -O sam @IN
  case_ $s-idxstats-unsorted raw $s.sam idxstats @IN
  case_ $s-idxstats sorted $s.sam idxstats @IN
  case_ $s-region-chr1 sorted $s.sam view -c @IN chr1
  case_ $s-region-chr2 sorted $s.sam view -c @IN chr2:1-100
  case_ $s-region-star sorted $s.sam view -c @IN '*'
  case_ $s-region-filtered sorted $s.sam view -c -F 4 -q 30 @IN chr1
  case_ $s-region-out sorted $s.sam view @IN chr1:95-310
  case_ $s-region-two sorted $s.sam view @IN chr2:15-25 chr1:700
  case_ $s-region-h sorted $s.sam view -h @IN chr2
  case_ $s-depth-r sorted $s.sam depth -r chr1:1-150 @IN
  case_ $s-depth-r2 sorted $s.sam depth -r chr2 @IN
  case_ $s-depth sorted $s.sam depth @IN
done
for s in toy ties; do
  case_ $s-bam-flagstat bam $s.sam flagstat @IN
  case_ $s-bam-view-h bam $s.sam view -h @IN
  case_ $s-bam-sort-n bam $s.sam sort -n -O sam @IN
  case_ $s-bam-count bam $s.sam view -c -F 0x904 @IN
done
case_ empty-view-h raw empty.sam view -h @IN
case_ names-sort-n raw names.sam sort -n -O sam @IN
case_ empty-sort raw empty.sam sort -O sam @IN
set +f
rm -f ./*.sorted.bam ./*.sorted.bam.bai
