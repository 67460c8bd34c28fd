"""The paper's experiments as cached stages, and the runner that turns them into a report.

harmlab reproduce --quick
"""
