#!/usr/bin/env bash
# Writes ROWS rows of leads drawn from PEOPLE people (each row picks one at
# random, seeded), so about PEOPLE*(1-e^(-ROWS/PEOPLE)) distinct people with
# email case variants and some phones: the deduplication memory benchmark.
#   scripts/gen-duplicates.sh 10000000 5000000 /tmp/dedup10m.csv
#   /usr/bin/time -v target/release/leadsift run -q -o /tmp/out /tmp/dedup10m.csv
set -euo pipefail
rows=${1:?rows} people=${2:?people} out=${3:?output file}
awk -v rows="$rows" -v people="$people" 'BEGIN {
  print "First Name,Last Name,Email,Phone,Company,Job Title,Country,Industry,Company Size,Notes"
  srand(7)
  for (i = 0; i < rows; i++) {
    p = int(rand() * people)
    t = (i % 4 == 0) ? "CTO" : ((i % 4 == 1) ? "Engineer" : "Director")
    e = (i % 3 == 0) ? sprintf("Person%d@Company%d.COM", p, p % 200000) : sprintf("person%d@company%d.com", p, p % 200000)
    ph = (i % 5 == 0) ? sprintf("+49 30 %08d", p) : ""
    printf "First%d,Last%d,%s,%s,Company %d Inc.,%s,Germany,software,51-200,\"met at booth, wants a demo\"\n", p, p, e, ph, p % 200000, t
  }
}' > "$out"
