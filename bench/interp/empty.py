# empty.py — does nothing: its run time is the startup cost subtracted from every workload.
