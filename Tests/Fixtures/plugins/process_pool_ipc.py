from concurrent.futures import ProcessPoolExecutor
import hashlib

def work(payload):
    return hashlib.sha256(payload[0]).hexdigest()

if __name__ == "__main__":
    data = [(bytes(2_000_000), list(range(50_000))) for _ in range(60)]
    with ProcessPoolExecutor(2) as ex:
        print(len(list(ex.map(work, data))))
