"""Helpers shared by the S3 end-to-end tests: per-test buckets, profiles
pointing at the loopback servers, and the real `aws` CLI as a witness."""
import json
import os
import subprocess
import uuid

from harness import profile_text, servers


def new_bucket(tag):
    return "bk-e2e-%s-%s" % (tag, uuid.uuid4().hex[:10])


def swift_profile(bucket, **extra):
    s = servers()
    keys = {"access_key": '"%s"' % s["S3_ACCESS_KEY"], "secret_key": s["S3_SECRET_KEY"],
            "s3_bucket": bucket, "s3_endpoint": s["S3_ENDPOINT"], "region_name": s["S3_REGION"],
            "default_destination": "s3"}
    keys.update(extra)
    return profile_text(keys)


def moto_profile(bucket, **extra):
    keys = {"access_key": "testing", "secret_key": "testing", "s3_bucket": bucket,
            "s3_endpoint": servers()["MOTO_ENDPOINT"], "region_name": "us-east-1",
            "default_destination": "s3"}
    keys.update(extra)
    return profile_text(keys)


def backup_objects(listing):
    """The objects of a list-objects-v2 reply but bakthat's own catalog rows
    (.bakthat/, docs/destination-catalog.md)."""
    return [o for o in (listing.get("Contents") or []) if not o["Key"].startswith(".bakthat/")]


def aws(server, *args, check=True):
    """Runs the aws CLI against "swift" or "moto"; returns parsed JSON or text."""
    s = servers()
    env = dict(os.environ)
    if server == "swift":
        env.update(AWS_ACCESS_KEY_ID=s["S3_ACCESS_KEY"], AWS_SECRET_ACCESS_KEY=s["S3_SECRET_KEY"])
        endpoint = s["S3_ENDPOINT"]
    else:
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        endpoint = s["MOTO_ENDPOINT"]
    env.pop("AWS_PROFILE", None)
    proc = subprocess.run(["aws", "--endpoint-url", endpoint, "--region", "us-east-1", *args],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError("aws %s failed: %s" % (" ".join(args), proc.stderr.decode()))
    out = proc.stdout.decode()
    try:
        return json.loads(out) if out.strip() else {}
    except ValueError:
        return out


def open_uploads(server, bucket):
    return aws(server, "s3api", "list-multipart-uploads", "--bucket", bucket).get("Uploads") or []
