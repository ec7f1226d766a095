"""Who is calling, what they may do, and the record of it: the one place that decides, without I/O."""
