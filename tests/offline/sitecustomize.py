"""Put on PYTHONPATH by tests that run a command offline: every attempt to reach the network or to pip-install is
refused and written, one line each, to the file named by RHIS_BLOCKED_LOG (kind, then what was asked).

Loopback stays open (a local service is not the network). Python imports this file at start-up (``site``)."""
import os
import socket
import subprocess

LOG = os.environ.get('RHIS_BLOCKED_LOG')
LOCAL = ('localhost', '127.0.0.1', '::1', '0.0.0.0', '', None)


def _record(kind: str, detail: object) -> None:
    with open(LOG, 'a') as log:
        log.write(f'{kind}\t{detail}\n')


if LOG:
    _getaddrinfo = socket.getaddrinfo
    _connect = socket.socket.connect
    _popen_init = subprocess.Popen.__init__

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOCAL and not str(host).startswith('127.'):
            _record('dns', host)
            raise socket.gaierror(socket.EAI_NONAME, 'network blocked by the test')
        return _getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOCAL \
                and not str(address[0]).startswith('127.'):
            _record('connect', address)
            raise OSError('network blocked by the test')
        return _connect(self, address)

    def popen_init(self, args, *rest, **kwargs):
        text = args if isinstance(args, str) else ' '.join(str(a) for a in args)
        if 'pip' in text and 'install' in text:
            _record('install', text)
            raise OSError('installs blocked by the test')
        return _popen_init(self, args, *rest, **kwargs)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect
    subprocess.Popen.__init__ = popen_init
