"""What the seed (../shared/seed/) sends, for the tests that replay it through each interface."""

# The seed's POST /containers/create example (API v1.18), minus Links and VolumesFrom, which name
# containers that do not exist here.
SEED_BODY = {
    "Hostname": "seedhost", "Domainname": "example.org", "User": "", "AttachStdin": False,
    "AttachStdout": True, "AttachStderr": True, "Tty": False, "OpenStdin": False, "StdinOnce": False,
    "Env": ["FOO=bar", "BAZ=quux"], "Cmd": ["date"], "Entrypoint": None, "Image": "busybox",
    "Labels": {"com.example.vendor": "Acme", "com.example.license": "GPL", "com.example.version": "1.0"},
    "Volumes": {"/volumes/data": {}}, "WorkingDir": "", "NetworkDisabled": False,
    "MacAddress": "12:34:56:78:9a:bc", "ExposedPorts": {"22/tcp": {}},
    "HostConfig": {
        "Binds": ["/tmp:/tmp"], "LxcConf": {"lxc.utsname": "docker"}, "Memory": 0, "MemorySwap": 0,
        "CpuShares": 512, "PidMode": "", "PortBindings": {"22/tcp": [{"HostPort": "11022"}]},
        "PublishAllPorts": False, "Privileged": False, "ReadonlyRootfs": False, "Dns": ["8.8.8.8"],
        "DnsSearch": [""], "ExtraHosts": None, "CapAdd": ["NET_ADMIN"], "CapDrop": ["MKNOD"],
        "RestartPolicy": {"Name": "", "MaximumRetryCount": 0}, "NetworkMode": "bridge", "Devices": [],
        "LogConfig": {"Type": "json-file", "Config": {}}, "SecurityOpt": [], "CgroupParent": "",
    },
}
