#!/usr/bin/env bash
# The offline demo: CCD on ShapesML with a tiny CLIP teacher, on CPU.
# Builds the data, the teacher and the classifier's pretrained backbone once
# (reused on later runs), trains CCD and the baseline (the same classifier on
# the teacher's global labels alone), tests the label-free and the last
# checkpoints on the test split, reports the train label quality before and
# after the label update, draws the update, and prints a summary.
#   bash tools/shapesml/run_demo.sh [extra tools/train.py args]
set -euo pipefail
cd "$(dirname "$0")/../.."

config=configs/shapes/ccd_shapesml.py
data=data/shapesml
teacher=work_dirs/shapesml_teacher/shapesml-clip-rn.pt
backbone=work_dirs/shapesml_backbone/resnet18-quarter.pth
work_dir=work_dirs/ccd_shapesml
baseline_config=configs/shapes/ablation/global_labels.py
baseline_dir=work_dirs/ccd_shapesml_baseline

# What an earlier run built for another version of the world (other
# classes) is built again.
world=$(python -c 'from ccd_mm.datasets.shapesml_generator import SHAPESML_VERSION as v; print(v)')
built_for_world() {  # FILE KEY: FILE's JSON has "KEY": "$world"
    grep -qs "\"$2\": \"$world\"" "$1"
}
if ! built_for_world "$data/meta.json" version; then
    python tools/dataset_converters/make_shapesml.py --out "$data" --seed 0 \
        --num-train 2000 --num-test 500
fi
if ! built_for_world "$(dirname "$teacher")/train_report.json" shapesml_version; then
    python tools/shapesml/train_teacher.py --out "$(dirname "$teacher")" \
        --seed 0
fi
if ! built_for_world "$backbone.json" shapesml_version; then
    python tools/shapesml/pretrain_backbone.py --out "$backbone" --seed 0
fi
# The demo tests its checkpoints after training (below), so its trainings
# validate on the test split at their last (10th) epoch only, not after
# every epoch as the configs do (the curves the ablation records; about 2 s
# each on 2 cores). The demo printed the same figures, to the decimal, with
# and without them.
validate_at_end=(--cfg-options train_cfg.val_interval=10)
python tools/train.py "$config" --work-dir "$work_dir" "${validate_at_end[@]}" "$@"
last=$(cat "$work_dir/last_checkpoint")
python tools/test.py "$config" "$work_dir/best_label_free.pth" \
    --work-dir "$work_dir/test" --out "$work_dir/test/label_free.json" \
    --out-item metrics
python tools/test.py "$config" "$last" --work-dir "$work_dir/test" \
    --out "$work_dir/test/last.json" --out-item metrics
python tools/train.py "$baseline_config" --work-dir "$baseline_dir" \
    "${validate_at_end[@]}" "$@"
python tools/test.py "$baseline_config" "$(cat "$baseline_dir/last_checkpoint")" \
    --work-dir "$baseline_dir/test" --out "$work_dir/test/baseline.json" \
    --out-item metrics
# The label-quality report reads the train split's ground truth (for the
# report only); its tables go to a file, the summary quotes its mAPs.
python tools/eval_pseudo_labels.py "$config" "$last" \
    --out "$work_dir/label_quality.json" > "$work_dir/label_quality.txt"
for boxes in "$work_dir"/cam_boxes_epoch_*.json; do
    python tools/visualize.py boxes "$boxes" --out-dir "$work_dir/vis"
done
python tools/visualize.py labels "$config" "$last" --out-dir "$work_dir/vis"
python tools/shapesml/demo_summary.py "$config" --work-dir "$work_dir" \
    --teacher-report "$(dirname "$teacher")/train_report.json"
