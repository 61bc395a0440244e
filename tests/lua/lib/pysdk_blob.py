"""The Azure SDK for Python's side of the blob interop test (Debian's python3-azure-storage).

  pysdk_blob.py upload   CONN CONTAINER BLOB FILE     upload FILE (small blocks, 4 in flight)
  pysdk_blob.py download CONN CONTAINER BLOB FILE     download to FILE
  pysdk_blob.py url-get  URL FILE                     download a blob through a (SAS) URL
  pysdk_blob.py url-put  URL FILE                     upload to a blob through a (SAS) URL
  pysdk_blob.py list     URL                          container URL with SAS: print blob names
  pysdk_blob.py sas      CONN CONTAINER               print a container SAS (racwl, 1 h) made by the SDK
"""
import datetime
import sys

from azure.storage.blob import (BlobClient, BlobServiceClient, ContainerClient, ContainerSasPermissions,
                                generate_container_sas)

SMALL = dict(max_single_put_size=1024 * 1024, max_block_size=1024 * 1024,
             max_single_get_size=1024 * 1024, max_chunk_get_size=1024 * 1024)


def main(argv):
    cmd = argv[1]
    if cmd == "upload":
        conn, container, name, path = argv[2:6]
        svc = BlobServiceClient.from_connection_string(conn, **SMALL)
        with open(path, "rb") as f:
            svc.get_blob_client(container, name).upload_blob(f, overwrite=True, max_concurrency=4)
    elif cmd == "download":
        conn, container, name, path = argv[2:6]
        svc = BlobServiceClient.from_connection_string(conn, **SMALL)
        with open(path, "wb") as f:
            svc.get_blob_client(container, name).download_blob(max_concurrency=4).readinto(f)
    elif cmd == "url-get":
        with open(argv[3], "wb") as f:
            BlobClient.from_blob_url(argv[2], **SMALL).download_blob(max_concurrency=4).readinto(f)
    elif cmd == "url-put":
        with open(argv[3], "rb") as f:
            BlobClient.from_blob_url(argv[2], **SMALL).upload_blob(f, overwrite=True, max_concurrency=4)
    elif cmd == "list":
        for b in ContainerClient.from_container_url(argv[2]).list_blobs():
            print(b.name)
    elif cmd == "sas":
        conn, container = argv[2:4]
        svc = BlobServiceClient.from_connection_string(conn)
        print(generate_container_sas(svc.account_name, container, account_key=svc.credential.account_key,
                                     permission=ContainerSasPermissions(read=True, add=True, create=True,
                                                                        write=True, list=True),
                                     expiry=datetime.datetime.utcnow() + datetime.timedelta(hours=1)))
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
