"""An independent device-plugin client on Debian's python3-grpcio and python3-protobuf.

The v1beta1 messages are described here by hand (descriptor_pb2, field numbers from the published
api.proto), so nothing is generated and nothing is shared with the TypeScript side. Dials the plugin's
unix socket, reads the first ListAndWatch message, asks Allocate for the given device IDs and prints JSON.
usage: dp_client.py SOCKET DEVICE_ID...
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format

try:
    from google.protobuf import message_factory

    def message_class(pool, name):
        descriptor = pool.FindMessageTypeByName(name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)
except ImportError:  # pragma: no cover
    raise

F = descriptor_pb2.FieldDescriptorProto
STRING, BOOL, INT32, INT64, MESSAGE = F.TYPE_STRING, F.TYPE_BOOL, F.TYPE_INT32, F.TYPE_INT64, F.TYPE_MESSAGE
OPTIONAL, REPEATED = F.LABEL_OPTIONAL, F.LABEL_REPEATED


def build_pool():
    f = descriptor_pb2.FileDescriptorProto(name="deviceplugin_v1beta1.proto", package="v1beta1", syntax="proto3")

    def message(name, fields, nested=()):
        m = f.message_type.add(name=name)
        for n in nested:
            m.nested_type.add().CopyFrom(n)
        for number, (fname, ftype, label, type_name) in enumerate(fields, start=1):
            if fname is None:
                continue
            field = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                field.type_name = type_name
        return m

    def map_entry(name):
        e = descriptor_pb2.DescriptorProto(name=name)
        e.field.add(name="key", number=1, type=STRING, label=OPTIONAL)
        e.field.add(name="value", number=2, type=STRING, label=OPTIONAL)
        e.options.map_entry = True
        return e

    message("Empty", [])
    message("DevicePluginOptions", [("pre_start_required", BOOL, OPTIONAL, None), ("get_preferred_allocation_available", BOOL, OPTIONAL, None)])
    message("NUMANode", [("ID", INT64, OPTIONAL, None)])
    message("TopologyInfo", [("nodes", MESSAGE, REPEATED, ".v1beta1.NUMANode")])
    message("Device", [("ID", STRING, OPTIONAL, None), ("health", STRING, OPTIONAL, None), ("topology", MESSAGE, OPTIONAL, ".v1beta1.TopologyInfo")])
    message("ListAndWatchResponse", [("devices", MESSAGE, REPEATED, ".v1beta1.Device")])
    message("ContainerAllocateRequest", [("devices_ids", STRING, REPEATED, None)])
    message("AllocateRequest", [("container_requests", MESSAGE, REPEATED, ".v1beta1.ContainerAllocateRequest")])
    message("Mount", [("container_path", STRING, OPTIONAL, None), ("host_path", STRING, OPTIONAL, None), ("read_only", BOOL, OPTIONAL, None)])
    message("DeviceSpec", [("container_path", STRING, OPTIONAL, None), ("host_path", STRING, OPTIONAL, None), ("permissions", STRING, OPTIONAL, None)])
    message("CDIDevice", [("name", STRING, OPTIONAL, None)])
    message(
        "ContainerAllocateResponse",
        [
            ("envs", MESSAGE, REPEATED, ".v1beta1.ContainerAllocateResponse.EnvsEntry"),
            ("mounts", MESSAGE, REPEATED, ".v1beta1.Mount"),
            ("devices", MESSAGE, REPEATED, ".v1beta1.DeviceSpec"),
            ("annotations", MESSAGE, REPEATED, ".v1beta1.ContainerAllocateResponse.AnnotationsEntry"),
            ("cdi_devices", MESSAGE, REPEATED, ".v1beta1.CDIDevice"),
        ],
        nested=(map_entry("EnvsEntry"), map_entry("AnnotationsEntry")),
    )
    message("AllocateResponse", [("container_responses", MESSAGE, REPEATED, ".v1beta1.ContainerAllocateResponse")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return pool


def main():
    socket, ids = sys.argv[1], sys.argv[2:]
    pool = build_pool()
    M = {n: message_class(pool, "v1beta1." + n) for n in ["Empty", "DevicePluginOptions", "ListAndWatchResponse", "AllocateRequest", "AllocateResponse"]}
    channel = grpc.insecure_channel("unix:" + socket)
    grpc.channel_ready_future(channel).result(timeout=10)

    def unary(method, response):
        return channel.unary_unary("/v1beta1.DevicePlugin/" + method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=M[response].FromString)

    options = unary("GetDevicePluginOptions", "DevicePluginOptions")(M["Empty"](), timeout=10)
    stream = channel.unary_stream("/v1beta1.DevicePlugin/ListAndWatch", request_serializer=lambda m: m.SerializeToString(), response_deserializer=M["ListAndWatchResponse"].FromString)(M["Empty"](), timeout=30)
    first = next(stream)
    stream.cancel()
    request = M["AllocateRequest"]()
    request.container_requests.add().devices_ids.extend(ids)
    allocated = unary("Allocate", "AllocateResponse")(request, timeout=10)
    as_json = lambda m: json_format.MessageToDict(m, preserving_proto_field_name=True)
    print(json.dumps({"options": as_json(options), "devices": [d.ID for d in first.devices], "health": sorted({d.health for d in first.devices}), "allocate": as_json(allocated)}))


if __name__ == "__main__":
    main()
