"""The bottom layer: settings, Kafka plumbing (security, admin, topics), logging, private files and errors.

``core`` imports no other package of this project; every other package may import it. ``config``
reads the one ``Settings`` object; ``kafka_security`` and ``kafka_admin`` connect to and prepare the
brokers; ``topics`` is the one place topics are created; ``secret_check`` refuses the development
secret outside the development stack; ``stack_info`` finds a running ``ecgstream up``; ``logs``
writes JSON lines; ``private_files`` keeps ``ECGSTREAM_HOME`` private; ``errors`` is the root of the
exception tree.
"""
