#!/usr/bin/env bash
# The offline demo: CCD on ShapesML with a tiny CLIP teacher, on CPU.
# Builds the data, the teacher and the classifier's pretrained backbone once
# (reused on later runs), trains CCD, tests the label-free and the last
# checkpoint on the test split, draws the label update, and prints a summary.
#   bash tools/shapesml/run_demo.sh [extra tools/train.py args]
set -euo pipefail
cd "$(dirname "$0")/../.."

config=configs/shapes/ccd_shapesml.py
data=data/shapesml
teacher=work_dirs/shapesml_teacher/shapesml-clip-rn.pt
backbone=work_dirs/shapesml_backbone/resnet18-quarter.pth
work_dir=work_dirs/ccd_shapesml

if [ ! -f "$data/annotations/test.json" ]; then
    python tools/dataset_converters/make_shapesml.py --out "$data" --seed 0 \
        --num-train 2000 --num-test 500
fi
if [ ! -f "$teacher" ]; then
    python tools/shapesml/train_teacher.py --out "$(dirname "$teacher")" \
        --seed 0
fi
if [ ! -f "$backbone" ]; then
    python tools/shapesml/pretrain_backbone.py --out "$backbone" --seed 0
fi
python tools/train.py "$config" --work-dir "$work_dir" "$@"
last=$(cat "$work_dir/last_checkpoint")
python tools/test.py "$config" "$work_dir/best_label_free.pth" \
    --work-dir "$work_dir/test" --out "$work_dir/test/label_free.json" \
    --out-item metrics
python tools/test.py "$config" "$last" --work-dir "$work_dir/test" \
    --out "$work_dir/test/last.json" --out-item metrics
for boxes in "$work_dir"/cam_boxes_epoch_*.json; do
    python tools/visualize.py boxes "$boxes" --out-dir "$work_dir/vis"
done
python tools/visualize.py labels "$config" "$last" --out-dir "$work_dir/vis"
python tools/shapesml/demo_summary.py "$config" --work-dir "$work_dir" \
    --teacher-report "$(dirname "$teacher")/train_report.json"
