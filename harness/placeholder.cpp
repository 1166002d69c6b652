// placeholder until the conformance checks land
