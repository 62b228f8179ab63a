# The released script's preset (../ccd_shapesml.py) with a CAM of
# 16 x 16 cells instead of 8 x 8: the classifier's third stage is not
# strided either (output stride 8), the pretrained weights are the same. A
# ShapesML object (26-77 px of 128) then spans 3-10 CAM cells instead of
# 2-5, a grid finer than the 14 x 14 of the paper's ResNet-101 at 448 px.
# A diagnostic of whether the label update fails for want of CAM
# resolution, not a preset: it changes the classifier too, so it is
# compared with itself (the labels before and after its update).
_base_ = ['../ccd_shapesml.py']

model = dict(backbone=dict(strides=(1, 2, 1, 1)))
