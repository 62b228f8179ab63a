#!/usr/bin/env bash
# The offline demo: CCD on ShapesML with a tiny CLIP teacher, on CPU.
# Builds the data, the teacher and the classifier's pretrained backbone once
# (reused on later runs), trains CCD, then evaluates the label-free
# checkpoint on the test split.
#   bash tools/shapesml/run_demo.sh [extra tools/train.py args]
set -euo pipefail
cd "$(dirname "$0")/../.."

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
python tools/train.py configs/shapes/ccd_shapesml.py --work-dir "$work_dir" "$@"
python tools/test.py configs/shapes/ccd_shapesml.py \
    "$work_dir/best_label_free.pth" --work-dir "$work_dir/test"
