"""Seeing what training did: loss landscapes, sharpness, mode connectivity and the network's
insides (docs/geometry.md, docs/visualize.md)."""
