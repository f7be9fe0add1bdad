"""Dynamics of a trained network: simulation, PCA, Jacobians and spectra, fixed points, the orbit, perturbations."""
