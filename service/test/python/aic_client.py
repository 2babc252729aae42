"""A gRPC client of the AI Core in Python, built from the .proto alone (grpc_tools.protoc), as a
media server in another language would: HealthCheck, CompressFrame on a real frame,
DecompressFrame of its payload, a CompressStream of five frames, and a bad request.
Prints one JSON object. Usage: aic_client.py PROTO_ROOT TARGET TOKEN OUT_DIR"""
import json
import os
import sys

from grpc_tools import protoc

proto_root, target, token, out_dir = sys.argv[1:5]
proto = "auralink/aic/v1/aic.proto"
if protoc.main(["protoc", f"-I{proto_root}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", proto]) != 0:
    sys.exit("protoc failed")
sys.path.insert(0, out_dir)

import grpc  # noqa: E402
from auralink.aic.v1 import aic_pb2 as pb  # noqa: E402
from auralink.aic.v1 import aic_pb2_grpc as rpc  # noqa: E402

meta = [("authorization", f"Bearer {token}")]
stub = rpc.AICCompressionServiceStub(grpc.insecure_channel(target))
out = {}

health = stub.HealthCheck(pb.HealthCheckRequest(), metadata=meta, timeout=10)
out["health"] = {"status": health.status, "version": health.version, "database_connected": health.database_connected}

width, height = 96, 64
frame = bytes(((x * 255 // width) + (y * 3)) % 256 for y in range(height) for x in range(width) for _ in range(3))
req = pb.CompressFrameRequest(session_id="py-1", frame_type=pb.FRAME_TYPE_VIDEO, frame_data=frame,
                              metadata=pb.FrameMetadata(width=width, height=height, pixel_format="rgb24"), sequence=42)
res = stub.CompressFrame(req, metadata=meta, timeout=60)
out["compress"] = {"status": pb.CompressionStatus.Name(res.status), "sequence": res.sequence, "original": res.original_size,
                   "compressed": res.compressed_size, "payload": len(res.compressed_data), "ratio": res.actual_compression_ratio,
                   "score": res.quality.score, "codec": res.codec, "model": res.model_type}
dec = stub.DecompressFrame(pb.DecompressFrameRequest(compressed_data=res.compressed_data), metadata=meta, timeout=60)
out["decompress"] = {"type": pb.FrameType.Name(dec.frame_type), "width": dec.metadata.width, "height": dec.metadata.height, "bytes": len(dec.frame_data)}

def frames():
    for i in range(5):
        yield pb.CompressFrameRequest(frame_type=pb.FRAME_TYPE_VIDEO, frame_data=frame,
                                      metadata=pb.FrameMetadata(width=width, height=height), sequence=i)
out["stream"] = [r.sequence for r in stub.CompressStream(frames(), metadata=meta, timeout=120)]

try:
    stub.CompressFrame(pb.CompressFrameRequest(session_id="py-1", frame_type=pb.FRAME_TYPE_VIDEO, frame_data=b"xyz",
                                               metadata=pb.FrameMetadata(width=10, height=10)), metadata=meta, timeout=10)
    out["bad"] = None
except grpc.RpcError as e:
    out["bad"] = {"code": e.code().name, "details": e.details()}

try:
    stub.HealthCheck(pb.HealthCheckRequest(), timeout=10)
    out["noauth"] = None
except grpc.RpcError as e:
    out["noauth"] = e.code().name

print(json.dumps(out))
