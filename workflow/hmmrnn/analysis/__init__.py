"""The analyses of a family's representative network, one module per stage (global dynamics, subspaces, evolution,
local dynamics, alignment) and one per step they share.
"""
