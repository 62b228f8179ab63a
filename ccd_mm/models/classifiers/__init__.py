from .two_view_classifier import TwoViewClassifier

__all__ = ['TwoViewClassifier']
