"""Sources of evidence besides manifest files: a live cluster, and its snapshots.

``cluster`` connects (the only module that imports ``kubernetes``), ``discovery`` finds
what the cluster serves, ``collect`` lists it, ``snapshot`` writes and reads the result.
Modules are imported where they are used, so that scanning files never loads the client.
"""
