#!/usr/bin/env bash
# Submits the clustersim shards as one AWS Batch array job, then a merge job that starts when the
# whole array has succeeded (and fails at once if any shard fails for good).
#
#   docs/examples/aws-batch-submit.sh          # all 8 shards, then the merge
#   docs/examples/aws-batch-submit.sh 5        # rerun only shard 5 (1-based), then the merge
#
# Once, beforehand (and again whenever the JSON changes):
#   aws batch register-job-definition --cli-input-json file://docs/examples/aws-batch-job-definition.json
#
# In an array child AWS_BATCH_JOB_ARRAY_INDEX is 0-based (0..N-1); the job definition's command
# runs shard AWS_BATCH_JOB_ARRAY_INDEX + 1, or SHARD (1-based) when that is set.
set -euo pipefail

QUEUE=${QUEUE:-clustersim}                  # your job queue
JOB_DEFINITION=${JOB_DEFINITION:-clustersim} # name (latest revision) or name:revision
STUDY=${STUDY:-compare-placement}
N=${SHARDS:-8}                              # array size: 2..10000
RERUN=${1:-}

if [[ -z "$RERUN" ]]; then
    shard_job=$(aws batch submit-job \
        --job-name "$STUDY-shards" \
        --job-queue "$QUEUE" \
        --job-definition "$JOB_DEFINITION" \
        --array-properties "size=$N" \
        --container-overrides "{\"environment\": [{\"name\": \"SHARDS\", \"value\": \"$N\"}]}" \
        --query jobId --output text)
    echo "array job $shard_job: $N shards ($shard_job:0 .. $shard_job:$((N - 1)))"
else
    if ! [[ "$RERUN" =~ ^[0-9]+$ ]] || (( RERUN < 1 || RERUN > N )); then
        echo "usage: $0 [SHARD]   (SHARD from 1 to $N)" >&2
        exit 2
    fi
    shard_job=$(aws batch submit-job \
        --job-name "$STUDY-shard-$RERUN" \
        --job-queue "$QUEUE" \
        --job-definition "$JOB_DEFINITION" \
        --container-overrides "{\"environment\": [{\"name\": \"SHARDS\", \"value\": \"$N\"}, {\"name\": \"SHARD\", \"value\": \"$RERUN\"}]}" \
        --query jobId --output text)
    echo "job $shard_job: shard $RERUN/$N (resumes what its folder already holds)"
fi

# The merge: same image and EFS mount, another command, fewer resources. A dependency on the
# array job's id (no type) waits for every child.
merge_overrides=$(cat <<JSON
{
  "command": ["/bin/sh", "-c", "exec clustersim merge /results/\$STUDY.shard-*-of-\$SHARDS --out /results/\$STUDY"],
  "environment": [{"name": "SHARDS", "value": "$N"}],
  "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]
}
JSON
)
merge_job=$(aws batch submit-job \
    --job-name "$STUDY-merge" \
    --job-queue "$QUEUE" \
    --job-definition "$JOB_DEFINITION" \
    --depends-on "jobId=$shard_job" \
    --container-overrides "$merge_overrides" \
    --query jobId --output text)
echo "merge job $merge_job: writes /results/$STUDY on the EFS file system"
echo "watch: aws batch describe-jobs --jobs $shard_job $merge_job --query 'jobs[].[jobName,status,statusReason]' --output table"
