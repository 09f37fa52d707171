"""volumeviz.io: files (pydicom + SimpleITK) to model objects. The only layer that reads DICOM."""
