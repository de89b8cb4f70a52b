"""Differential-test oracle: python3-gammu encodes and decodes PDUs for test/sms/gammu.test.ts.

Reads one JSON request on stdin, writes one JSON response on stdout.
"""
import datetime
import json
import sys

import gammu


def encode(req):
    out = []
    for item in req["texts"]:
        entry = "ConcatenatedTextLong16bit" if item.get("ref16") else "ConcatenatedTextLong"
        msgs = gammu.EncodeSMS({"Class": -1, "Unicode": item["unicode"], "Entries": [{"ID": entry, "Buffer": item["text"]}]})
        pdus = []
        for m in msgs:
            m["SMSC"] = {"Location": 0, "Number": "+15550000000", "Validity": "Max"}
            m["Number"] = item["number"]
            if item["layout"] == "Deliver":
                m["Type"] = "Deliver"
                m["DateTime"] = datetime.datetime(2024, 3, 1, 13, 5, 9)
            pdus.append(gammu.EncodePDU(m, item["layout"]).hex())
        out.append(pdus)
    return out


def decode(req):
    out = []
    for hexpdu in req["pdus"]:
        m = gammu.DecodePDU(bytes.fromhex(hexpdu), True)
        udh = m["UDH"]
        out.append({
            "type": m["Type"],
            "number": m["Number"],
            "text": m["Text"],
            "coding": m["Coding"],
            "udhType": udh["Type"],
            "ref8": udh["ID8bit"],
            "ref16": udh["ID16bit"],
            "part": udh["PartNumber"],
            "total": udh["AllParts"],
            "datetime": m["DateTime"].isoformat() if m.get("DateTime") else None,
            "class": m["Class"],
        })
    return out


request = json.load(sys.stdin)
result = encode(request) if request["op"] == "encode" else decode(request)
json.dump(result, sys.stdout)
