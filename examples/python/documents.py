#!/usr/bin/env python3
"""The document API from Python, signed with AWS Signature Version 4 by botocore (boto3's core), nothing else.

    python3 examples/python/documents.py doc idDocumentMis_2125630
    python3 examples/python/documents.py list --stage remd --state failed --since 1d
    python3 examples/python/documents.py expect idDocumentMis_2125630 remd 24h
    python3 examples/python/documents.py silent

The API base: --api, else N3_DOCUMENTS_API (the stack output DocumentsApiUrl), else http://127.0.0.1:3000/
(npm start). Against AWS the credentials come from the usual AWS chain (environment, profile, role) and
must carry the stack's consumer policy; against npm start (a loopback address) the local dummy
credentials local / local are used, which npm start checks signatures against.
Prints the answer's JSON; exits 1 with one line on stderr when the API refuses (404: no such document).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

LOCAL_REGION = "eu-central-1"


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def call(api: str, method: str, path: str, query: dict | None = None, body: dict | None = None) -> tuple[int, object]:
    url = urllib.parse.urljoin(api if api.endswith("/") else api + "/", path)
    if query:
        url += "?" + urllib.parse.urlencode(query)
    host = urllib.parse.urlsplit(url).hostname or ""
    if is_loopback(host):
        credentials, region = Credentials("local", "local"), LOCAL_REGION
    else:
        session = botocore.session.get_session()
        credentials = session.get_credentials()
        if credentials is None:
            sys.exit("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
        found = re.search(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$", host)
        region = found.group(1) if found else session.get_config_variable("region") or LOCAL_REGION
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"} if data else {})
    # Service execute-api: API Gateway's IAM authorisation. Adds X-Amz-Date, Authorization (and the session token).
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    prepared = urllib.request.Request(url, data=data, headers=dict(request.headers.items()), method=method)
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text


def main() -> None:
    parser = argparse.ArgumentParser(description="Call the N3 callback site's document API with SigV4 (botocore).")
    parser.add_argument("--api", default=os.environ.get("N3_DOCUMENTS_API", "http://127.0.0.1:3000/"))
    commands = parser.add_subparsers(dest="command", required=True)
    doc = commands.add_parser("doc", help="one document's state per stage")
    doc.add_argument("document_id")
    listing = commands.add_parser("list", help="documents written since, optionally in one stage state")
    listing.add_argument("--stage")
    listing.add_argument("--state")
    listing.add_argument("--since", default="1d")
    expect = commands.add_parser("expect", help="expect a final answer for a stage in time")
    expect.add_argument("document_id")
    expect.add_argument("stage")
    expect.add_argument("within", help="30m, 24h, 2d")
    commands.add_parser("silent", help="documents whose expected answer is overdue")
    args = parser.parse_args()

    quote = lambda value: urllib.parse.quote(value, safe="")  # noqa: E731
    if args.command == "doc":
        status, answer = call(args.api, "GET", f"documents/{quote(args.document_id)}")
    elif args.command == "list":
        query = {k: v for k, v in {"stage": args.stage, "state": args.state, "since": args.since}.items() if v}
        status, answer = call(args.api, "GET", "documents", query)
    elif args.command == "expect":
        status, answer = call(args.api, "PUT", f"documents/{quote(args.document_id)}/expectations/{args.stage}", body={"within": args.within})
    else:
        status, answer = call(args.api, "GET", "documents", {"silent": "true"})

    if status >= 400:
        message = (answer.get("error") or answer.get("Message")) if isinstance(answer, dict) else answer
        print(f"HTTP {status}: {message}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(answer, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
